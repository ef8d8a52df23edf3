import { fail } from '../errors.js'

/** Common filesystem limits: a longer name cannot be created on ext4, NTFS or APFS. */
export const MAX_SEGMENT_BYTES = 255
export const MAX_PATH_BYTES = 4096

const DRIVE = /^[A-Za-z]:/
/** A lone UTF-16 surrogate has no UTF-8 form: it would be written as U+FFFD and read back changed. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Says what is being checked and what the user should do about a bad one. */
export interface PathContext {
  what: string
  advice: string
}

/** For paths read from a torrent or metadata received from peers. */
export const FROM_TORRENT: PathContext = {
  what: 'file path',
  advice: 'the torrent is invalid or unsafe; get it from another source'
}

function show (segments: readonly string[]): string {
  return JSON.stringify(segments.join('/'))
}

function problem (segment: string): string | undefined {
  if (segment.length === 0) return 'an empty segment'
  if (segment === '.' || segment === '..') return `a "${segment}" segment`
  if (segment.includes('/') || segment.includes('\\')) return 'a segment containing a slash'
  if (segment.includes('\0')) return 'a NUL character'
  if (DRIVE.test(segment)) return 'a drive letter'
  if (LONE_SURROGATE.test(segment)) return 'a character that is not valid Unicode'
  if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) return `a segment over ${MAX_SEGMENT_BYTES} bytes`
  return undefined
}

/**
 * Checks that `segments` names a file strictly inside the archive on every platform and returns
 * it '/'-joined. An absolute path shows up as an empty or slash-bearing segment, so it is covered.
 */
export function validatePath (segments: readonly string[], context: PathContext = FROM_TORRENT): string {
  const { what, advice } = context
  if (segments.length === 0) fail('EBADTORRENT', `${what} is empty; ${advice}`)
  for (const segment of segments) {
    const why = problem(segment)
    if (why !== undefined) fail('EBADTORRENT', `${what} ${show(segments)} has ${why}; ${advice}`)
  }
  const joined = segments.join('/')
  if (Buffer.byteLength(joined, 'utf8') > MAX_PATH_BYTES) {
    fail('EBADTORRENT', `${what} ${show(segments)} is over ${MAX_PATH_BYTES} bytes; ${advice}`)
  }
  return joined
}

/** A torrent's `name`: one segment, since it becomes a file or folder name. */
export function validateName (name: string, context: PathContext = FROM_TORRENT): string {
  return validatePath([name], { what: 'torrent name', advice: context.advice })
}

/** Splits a '/'-separated relative path and validates it; a leading '/' is an absolute path. */
export function splitPath (path: string, context: PathContext = FROM_TORRENT): string[] {
  if (path.startsWith('/')) {
    fail('EBADTORRENT', `${context.what} ${JSON.stringify(path)} is absolute; ${context.advice}`)
  }
  const segments = path.split('/')
  validatePath(segments, context)
  return segments
}

/**
 * Rejects two files with the same path and a file whose path is a folder of another file: both
 * would make two parts of the torrent claim one place on disk. Paths are '/'-joined.
 */
export function checkPathConflicts (paths: readonly string[], context: PathContext = FROM_TORRENT): void {
  const advice = context.advice
  const files = new Set<string>()
  for (const path of paths) {
    if (files.has(path)) fail('EBADTORRENT', `two files have the path ${JSON.stringify(path)}; ${advice}`)
    files.add(path)
  }
  for (const path of paths) {
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const folder = path.slice(0, slash)
      if (files.has(folder)) {
        fail('EBADTORRENT', `${JSON.stringify(folder)} is both a file and the folder of ${JSON.stringify(path)}; ${advice}`)
      }
    }
  }
}
