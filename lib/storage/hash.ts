import { createHash, type Hash } from 'node:crypto'

/**
 * Piece hashing. Everything goes through these functions so that hashing can move to a pool of
 * worker threads without touching storage. Inline hashing is cheap enough for now (bench/README.md,
 * "Figures behind the code").
 */

export const SHA1_LENGTH = 20

/** SHA-1 of `data`. */
export async function sha1 (data: Uint8Array): Promise<Buffer> {
  return createHash('sha1').update(data).digest()
}

/** True when the SHA-1 of `data` equals `expected` (20 bytes). */
export async function sha1Matches (data: Uint8Array, expected: Uint8Array): Promise<boolean> {
  const digest = await sha1(data)
  return digest.equals(expected)
}

/**
 * Hashes a stream of torrent bytes fed in arbitrary chunks, cutting it into pieces of
 * `pieceLength` bytes (the last one may be shorter) and writing each piece's SHA-1 into `out`
 * in order. Used to build piece hashes from files read with large reads that ignore piece
 * boundaries.
 */
export class PieceHasher {
  readonly out: Buffer
  private readonly pieceLength: number
  private hash: Hash | null = null
  private inPiece = 0
  private piece = 0

  constructor (pieceLength: number, pieceCount: number) {
    this.pieceLength = pieceLength
    this.out = Buffer.alloc(pieceCount * SHA1_LENGTH)
  }

  update (chunk: Uint8Array): void {
    let at = 0
    while (at < chunk.length) {
      if (this.piece * SHA1_LENGTH === this.out.length) {
        throw new RangeError(`PieceHasher got more than ${this.piece} pieces of data.`)
      }
      const take = Math.min(chunk.length - at, this.pieceLength - this.inPiece)
      this.hash ??= createHash('sha1')
      this.hash.update(take === chunk.length ? chunk : chunk.subarray(at, at + take))
      at += take
      this.inPiece += take
      if (this.inPiece === this.pieceLength) this.endPiece()
    }
  }

  /** Ends a short last piece and returns the concatenated hashes. */
  async digest (): Promise<Buffer> {
    if (this.inPiece > 0) this.endPiece()
    if (this.piece * SHA1_LENGTH !== this.out.length) {
      throw new RangeError(`PieceHasher got ${this.piece} pieces, expected ${this.out.length / SHA1_LENGTH}.`)
    }
    return this.out
  }

  private endPiece (): void {
    this.hash!.digest().copy(this.out, this.piece * SHA1_LENGTH)
    this.hash = null
    this.inPiece = 0
    this.piece++
  }
}
