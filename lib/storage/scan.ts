import { createHash, type Hash } from 'node:crypto'
import { Bitfield } from '../util/bitfield.js'
import type { FileMap, FileSegment } from './file-map.js'
import { SHA1_LENGTH } from './hash.js'
import type { V2Pieces } from './hash-v2.js'

/** Largest read of a scan: a piece longer than this is hashed in parts, so that a scan of 16 or
 *  128 MiB pieces holds two such buffers, not two pieces. */
export const SCAN_READ_SIZE = 4 * 1024 * 1024

/** What a scan needs of the storage. */
export interface ScanSource {
  readonly map: FileMap
  /** Concatenated 20-byte SHA-1s of the pieces; null for a v2-only torrent, checked by `v2`. */
  readonly hashes: Buffer | null
  readonly v2?: V2Pieces
  /** True when every stored segment lies within its file's current size (`sizes` caches them). */
  stored: (segments: FileSegment[], sizes: Float64Array) => Promise<boolean>
  /** Reads `segments` (`length` bytes) into `into`, or a buffer it may return instead. */
  read: (segments: FileSegment[], length: number, into: Buffer) => Promise<Buffer>
  /** Throws once the storage is closed. */
  assertOpen: () => void
}

/** Resume data (resume-data.ts): the pieces in `trusted` are taken from `have` without reading them. */
export interface KnownPieces { readonly have: Bitfield, readonly trusted: Bitfield }

interface Part { readonly index: number, readonly last: boolean, readonly data: Promise<Buffer> }

/**
 * The pieces stored and verified. A piece whose files are missing or too short is absent without
 * being read; the rest are read in order in parts of at most SCAN_READ_SIZE bytes (the next read
 * overlapping the current hash) and verified.
 */
export async function scanPieces (src: ScanSource, files: number, onProgress?: (checked: number, total: number) => void, known?: KnownPieces): Promise<Bitfield> {
  const { map } = src
  const total = map.pieceCount
  const have = new Bitfield(total)
  const partSize = Math.min(map.layout.pieceLength, SCAN_READ_SIZE)
  const sizes = new Float64Array(files).fill(-1)
  const buffers: Buffer[] = []
  let flip = 0
  let checked = 0
  let hash: Hash | null = null
  let v2: ReturnType<V2Pieces['hasher']> = null
  let inflight: Part | null = null

  const finish = async (part: Part): Promise<void> => {
    const data = await part.data
    if (src.hashes === null) {
      v2 ??= src.v2?.hasher(part.index) ?? null
      v2?.update(data)
    } else {
      hash ??= createHash('sha1')
      hash.update(data)
    }
    if (!part.last) return
    if (src.hashes === null ? v2?.matches() === true : hash!.digest().equals(src.hashes.subarray(part.index * SHA1_LENGTH, (part.index + 1) * SHA1_LENGTH))) have.set(part.index)
    hash = null
    v2 = null
    onProgress?.(++checked, total)
  }

  for (let i = 0; i < total; i++) {
    src.assertOpen()
    const size = map.pieceSize(i)
    const start = i * map.layout.pieceLength
    if (known?.trusted.get(i) === true) {
      if (known.have.get(i)) have.set(i)
      onProgress?.(++checked, total)
      continue
    }
    if (size === 0 || !await src.stored(map.pieceSegments(i), sizes)) {
      if (inflight !== null) await finish(inflight)
      inflight = null
      onProgress?.(++checked, total)
      continue
    }
    for (let begin = 0; begin < size; begin += partSize) {
      const length = Math.min(partSize, size - begin)
      // Two buffers: this part is read into one while the one before is hashed from the other.
      buffers[flip] ??= Buffer.allocUnsafe(partSize)
      const data = src.read(map.segments(start + begin, length), length, buffers[flip]!.subarray(0, length))
      data.catch(noop) // awaited by finish() one step later; a failure meanwhile is not "unhandled"
      flip ^= 1
      if (inflight !== null) await finish(inflight)
      inflight = { index: i, last: begin + length === size, data }
    }
  }
  if (inflight !== null) await finish(inflight)
  return have
}

function noop (): void {}
