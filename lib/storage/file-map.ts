import { fail } from '../errors.js'
import type { Layout } from '../metainfo/types.js'

/** A run of bytes inside one file: `length` bytes from `offset` of `layout.files[file]`. */
export interface FileSegment {
  file: number
  offset: number
  length: number
}

/**
 * Maps torrent byte ranges onto files. Built once per torrent; each lookup is a binary search
 * over file offsets, then a walk over the files the range actually covers. Pad files are
 * returned like any other: whether to store them is the caller's business.
 */
export class FileMap {
  readonly layout: Layout
  readonly pieceCount: number
  /** Start offsets of the files, for the binary search (a typed array keeps it compact and fast). */
  private readonly starts: Float64Array

  constructor (layout: Layout) {
    const { pieceLength, length, files } = layout
    if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0) {
      fail('EBADTORRENT', `Piece length ${pieceLength} is not a positive integer; the torrent is invalid.`)
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      fail('EBADTORRENT', `Torrent length ${length} is not a non-negative integer; the torrent is invalid.`)
    }
    this.starts = new Float64Array(files.length)
    let expected = 0
    for (let i = 0; i < files.length; i++) {
      const f = files[i]!
      if (f.offset !== expected || !Number.isSafeInteger(f.length) || f.length < 0) {
        fail('EBADTORRENT', `File ${i} ("${f.path}") does not follow the previous file contiguously; the torrent layout is invalid.`)
      }
      this.starts[i] = f.offset
      expected += f.length
    }
    if (expected !== length) {
      fail('EBADTORRENT', `Files add up to ${expected} bytes but the torrent says ${length}; the torrent layout is invalid.`)
    }
    this.layout = layout
    this.pieceCount = Math.ceil(length / pieceLength)
  }

  /** Bytes in piece `index`: `pieceLength`, except the last piece, which holds the remainder. */
  pieceSize (index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return 0
    const { pieceLength, length } = this.layout
    return index === this.pieceCount - 1 ? length - index * pieceLength : pieceLength
  }

  /** Segments covered by `length` bytes at `begin` of piece `index`. The range must lie inside the piece. */
  pieceSegments (index: number, begin = 0, length = this.pieceSize(index)): FileSegment[] {
    this.checkPieceRange(index, begin, length)
    return this.segments(index * this.layout.pieceLength + begin, length)
  }

  /** Throws a RangeError (code ERR_OUT_OF_RANGE) unless `length` bytes at `begin` lie inside piece `index`. */
  checkPieceRange (index: number, begin: number, length: number): void {
    const size = this.pieceSize(index)
    if (size === 0 || !Number.isInteger(begin) || !Number.isInteger(length) ||
        begin < 0 || length < 0 || begin + length > size) {
      throw outOfRange(`bytes ${begin}+${length} of piece ${index} are outside the torrent`)
    }
  }

  /** Segments covered by `length` bytes at torrent offset `start`, in file order. Zero-length
   *  files cover no bytes and never appear. */
  segments (start: number, length: number): FileSegment[] {
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 ||
        start + length > this.layout.length) {
      throw outOfRange(`bytes ${start}+${length} are outside the torrent of ${this.layout.length} bytes`)
    }
    const out: FileSegment[] = []
    if (length === 0) return out
    const files = this.layout.files
    let i = this.fileAt(start)
    let pos = start
    let left = length
    while (left > 0) {
      const f = files[i]!
      const inFile = pos - f.offset
      const take = Math.min(left, f.length - inFile)
      if (take > 0) {
        out.push({ file: i, offset: inFile, length: take })
        pos += take
        left -= take
      }
      i++
    }
    return out
  }

  /** Index of the file holding torrent byte `pos` (pos < layout.length): the last file starting
   *  at or before it. Zero-length files share their start with the next file, so the last one
   *  with that start is the one with bytes. */
  fileAt (pos: number): number {
    const starts = this.starts
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (starts[mid]! <= pos) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /** First and last piece touching file `file`, or null for a zero-length file. */
  filePieces (file: number): { first: number, last: number } | null {
    const f = this.layout.files[file]
    if (f === undefined || f.length === 0) return null
    const pl = this.layout.pieceLength
    return { first: Math.floor(f.offset / pl), last: Math.floor((f.offset + f.length - 1) / pl) }
  }
}

function outOfRange (what: string): RangeError {
  const err = new RangeError(`Storage range error: ${what}.`)
  Object.defineProperty(err, 'code', { value: 'ERR_OUT_OF_RANGE', enumerable: true })
  return err
}
