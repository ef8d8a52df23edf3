import { createHash, type Hash } from 'node:crypto'
import { BLOCK_SIZE, blockCount, filePieceCount, HASH_SIZE, nextPow2, rootOf } from '../metainfo/merkle.js'
import type { Layout } from '../metainfo/types.js'
import { FileMap } from './file-map.js'

/** What piece `index` of a v2 torrent must hash to, and over how many of its bytes. */
export interface V2PieceTarget {
  /** The piece layer's entry, or the file's root for a file of one piece. */
  expected: Buffer
  /** Bytes of file data at the start of the piece; the rest of the piece is padding, never hashed. */
  bytes: number
  /** Leaves of the piece's subtree: a whole piece's worth, or for a one-piece file the power of
   *  two over its blocks (its root is over its own blocks, BEP52). */
  width: number
}

/**
 * BEP52 piece verification: a piece is the 16 KiB blocks of one file, hashed with SHA-256 into a
 * subtree padded with zero leaves to `width`, whose root must equal the piece layer's entry (or
 * the file's root for a file of one piece). Bytes past the file's end (the padding up to the piece
 * boundary) are not part of the tree: they are never stored and we serve zeros there, so what a
 * peer sends in them is ignored.
 */
export class V2Pieces {
  private readonly map: FileMap
  private readonly layers: ReadonlyMap<string, Buffer>

  constructor (layout: Layout, layers: ReadonlyMap<string, Buffer>) {
    this.map = new FileMap(layout)
    this.layers = layers
  }

  /** Null when the piece cannot be verified: no file starts it, or its file's layer is missing. */
  target (index: number): V2PieceTarget | null {
    const { pieceLength, files } = this.map.layout
    if (this.map.pieceSize(index) === 0) return null
    const start = index * pieceLength
    const file = files[this.map.fileAt(start)]!
    if (file.pad || file.root === undefined || file.length === 0 || file.offset % pieceLength !== 0) return null
    const inFile = (start - file.offset) / pieceLength
    const bytes = Math.min(pieceLength, file.length - inFile * pieceLength)
    const pieces = filePieceCount(file.length, pieceLength)
    if (pieces === 1) return { expected: file.root, bytes, width: nextPow2(blockCount(file.length)) }
    const layer = this.layers.get(file.root.toString('hex'))
    if (layer === undefined || layer.length !== pieces * HASH_SIZE) return null
    return { expected: layer.subarray(inFile * HASH_SIZE, (inFile + 1) * HASH_SIZE), bytes, width: pieceLength / BLOCK_SIZE }
  }

  /** True when `data` (the whole piece, padding included) is piece `index`. */
  matches (index: number, data: Uint8Array): boolean {
    const hasher = this.hasher(index)
    if (hasher === null || data.length !== this.map.pieceSize(index)) return false
    hasher.update(data)
    return hasher.matches()
  }

  /** An incremental check of piece `index`, fed its bytes in order in chunks of any size. */
  hasher (index: number): V2PieceHasher | null {
    const target = this.target(index)
    return target === null ? null : new V2PieceHasher(target)
  }
}

/** Hashes a piece's blocks as they arrive; bytes past `target.bytes` are skipped. */
export class V2PieceHasher {
  private readonly target: V2PieceTarget
  private readonly leaves: Buffer
  private seen = 0
  private block: Hash | null = null

  constructor (target: V2PieceTarget) {
    this.target = target
    this.leaves = Buffer.alloc(blockCount(target.bytes) * HASH_SIZE)
  }

  update (chunk: Uint8Array): void {
    let at = 0
    while (at < chunk.length && this.seen < this.target.bytes) {
      const inBlock = this.seen % BLOCK_SIZE
      const take = Math.min(chunk.length - at, BLOCK_SIZE - inBlock, this.target.bytes - this.seen)
      this.block ??= createHash('sha256')
      this.block.update(chunk.subarray(at, at + take))
      at += take
      this.seen += take
      if (this.seen % BLOCK_SIZE === 0 || this.seen === this.target.bytes) this.endBlock()
    }
  }

  /** True when every byte of the file's part came and the subtree root is the expected hash. */
  matches (): boolean {
    if (this.seen !== this.target.bytes) return false
    return rootOf(this.leaves, this.target.width).equals(this.target.expected)
  }

  private endBlock (): void {
    this.block!.digest().copy(this.leaves, (Math.ceil(this.seen / BLOCK_SIZE) - 1) * HASH_SIZE)
    this.block = null
  }
}
