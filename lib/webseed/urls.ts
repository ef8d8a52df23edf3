/** Where a torrent's files live under a BEP19 web seed, and which file ranges a piece covers. */
import type { FileEntry } from '../metainfo/types.js'

const encodeSegment = (segment: string): string => encodeURIComponent(segment)

/**
 * Where a file lives under a web seed (BEP19): for a single-file torrent the URL itself, or URL +
 * name when it ends in '/'; for a multi-file one URL + '/' (when missing) + name + '/' + path.
 * `name` and `segments` are the torrent's own (not the portable names given to files on disk);
 * each segment is percent-encoded.
 */
export function fileUrl (base: string, multiFile: boolean, name: string, segments: readonly string[]): string {
  const slash = base.endsWith('/')
  if (!multiFile) return slash ? base + encodeSegment(name) : base
  return (slash ? base : base + '/') + [name, ...segments].map(encodeSegment).join('/')
}

/** A piece's bytes as ranges of files: the files' indices in `files` and byte ranges within them. */
export interface FileRange {
  file: number
  start: number
  length: number
  /** Where the range goes in the piece. */
  at: number
}

/** The ranges of files that piece bytes [offset, offset + length) of the torrent cover, in order. */
export function fileRanges (files: readonly FileEntry[], offset: number, length: number): FileRange[] {
  const ranges: FileRange[] = []
  const end = offset + length
  let lo = 0
  let hi = files.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (files[mid]!.offset + files[mid]!.length <= offset) lo = mid + 1
    else hi = mid
  }
  for (let i = lo; i < files.length && files[i]!.offset < end; i++) {
    const f = files[i]!
    const from = Math.max(offset, f.offset)
    const to = Math.min(end, f.offset + f.length)
    if (to > from) ranges.push({ file: i, start: from - f.offset, length: to - from, at: from - offset })
  }
  return ranges
}
