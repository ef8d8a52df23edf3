import { fail } from '../errors.js'
import { MAX_SEGMENT_BYTES, type PathContext } from './paths.js'

/**
 * Names that every common file system can hold, and hold apart. A torrent made on Linux may be
 * opened on Windows (reserved device names, `<>:"\|?*`, trailing dots and spaces, case-insensitive)
 * or macOS (case-insensitive, normalisation-insensitive): two files that one of them would merge,
 * or a name it cannot create, must not reach the disk as they are. Torrents stay readable: names
 * are mapped, deterministically, as libtorrent does, rather than refused.
 */

/** A Windows device name, with or without an extension; Windows ignores spaces before the dot. */
const RESERVED = /^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]) *(?=\.|$)/i
const ILLEGAL_CHAR = /[<>:"\\|?*\u0000-\u001f]/
const ILLEGAL = new RegExp(ILLEGAL_CHAR.source, 'g')
const TRAILING = /[. ]$/
/** A longer "extension" is part of the name: it would leave no room for the suffix. */
const MAX_EXTENSION_BYTES = 32

/** The key under which case-insensitive, normalisation-insensitive file systems see a name. */
export function foldName (name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase()
}

/** `name` cut, on a character boundary, to `limit` UTF-8 bytes. */
function fit (name: string, limit = MAX_SEGMENT_BYTES): string {
  if (Buffer.byteLength(name, 'utf8') <= limit) return name
  let out = ''
  let bytes = 0
  for (const char of name) {
    bytes += Buffer.byteLength(char, 'utf8')
    if (bytes > limit) break
    out += char
  }
  return out
}

/** One path segment made creatable everywhere; a segment that already is comes back unchanged. */
export function portableSegment (segment: string): string {
  let name = segment.replace(ILLEGAL, '_').replace(RESERVED, '$&_')
  name = fit(name)
  if (TRAILING.test(name)) name = name.slice(0, -1) + '_'
  return name
}

/** Why Windows could not hold `segment` as it is, in the user's words; undefined when it can. */
function whyNotPortable (segment: string): string | undefined {
  if (ILLEGAL_CHAR.test(segment)) return 'has a character Windows does not allow in names (<>:"\\|?* or a control character)'
  if (RESERVED.test(segment)) return 'is a device name on Windows'
  if (TRAILING.test(segment)) return 'ends in a dot or a space, which Windows drops'
  return undefined
}

export function isPortableSegment (segment: string): boolean {
  return portableSegment(segment) === segment
}

/** `stem (n).ext`, the stem shortened when the result would be too long for a file system. */
function numbered (name: string, n: number): string {
  const dot = name.lastIndexOf('.')
  const hasExtension = dot > 0 && Buffer.byteLength(name.slice(dot), 'utf8') <= MAX_EXTENSION_BYTES
  const stem = hasExtension ? name.slice(0, dot) : name
  const tail = ` (${n})${hasExtension ? name.slice(dot) : ''}`
  return portableSegment(fit(stem, MAX_SEGMENT_BYTES - Buffer.byteLength(tail, 'utf8')) + tail)
}

interface Folder {
  /** What is in the folder, by folded name. */
  entries: Map<string, Entry>
  /** A folder's name as the torrent spells it (made portable) to the folder it went into. */
  spelled: Map<string, Entry & { folder: Folder }>
  /** The next number to try for a folded name, so that many variants of one name map in linear time. */
  next: Map<string, number>
}

interface Entry {
  name: string
  folder?: Folder
}

function newFolder (): Folder {
  return { entries: new Map(), spelled: new Map(), next: new Map() }
}

/** A name not yet used in `folder`: `name` itself, or `stem (n).ext` with the smallest free n. */
function unique (folder: Folder, name: string): string {
  const key = foldName(name)
  if (!folder.entries.has(key)) return name
  // Each number tried is either free or taken by another entry, so the loop ends.
  for (let n = folder.next.get(key) ?? 1; ; n++) {
    const candidate = numbered(name, n)
    if (!folder.entries.has(foldName(candidate))) {
      folder.next.set(key, n + 1)
      return candidate
    }
  }
}

function enterFolder (parent: Folder, segment: string): Entry & { folder: Folder } {
  const known = parent.spelled.get(segment)
  if (known !== undefined) return known
  const existing = parent.entries.get(foldName(segment))
  // Folders that differ only in case or normalisation become one, under the first spelling: no
  // data is at stake and a Windows or macOS disk would merge them anyway.
  let entry: Entry & { folder: Folder }
  if (existing?.folder !== undefined) {
    entry = { name: existing.name, folder: existing.folder }
  } else {
    entry = { name: unique(parent, segment), folder: newFolder() }
    parent.entries.set(foldName(entry.name), entry)
  }
  parent.spelled.set(segment, entry)
  return entry
}

/**
 * Maps the '/'-joined paths of a torrent's files, in torrent order, to paths that are unique after
 * NFC and case folding, with no reserved name, illegal character or trailing dot or space. Rules:
 * illegal characters become `_`; a reserved name gets `_` after it (`CON.txt` -> `CON_.txt`); a
 * trailing dot or space becomes `_`; a later file whose name folds like an earlier one gets
 * ` (n)` before its extension, n from 1 up (`A.txt`, `a.txt` -> `A.txt`, `a (1).txt`). The paths
 * must be free of exact duplicates and of a file that is also a folder (checkPathConflicts).
 */
export function portablePaths (paths: readonly string[]): string[] {
  const root = newFolder()
  return paths.map((path) => {
    const segments = path.split('/').map(portableSegment)
    const out: string[] = []
    let folder = root
    for (let i = 0; i < segments.length - 1; i++) {
      const entry = enterFolder(folder, segments[i]!)
      out.push(entry.name)
      folder = entry.folder
    }
    const name = unique(folder, segments[segments.length - 1]!)
    folder.entries.set(foldName(name), { name })
    out.push(name)
    return out.join('/')
  })
}

/**
 * For torrents we create: a name that would be changed when opened elsewhere is refused, so that
 * what we seed is what others get. `paths` are the files' '/'-joined paths, `name` the torrent's.
 */
export function checkPortable (name: string | undefined, paths: readonly string[], context: PathContext): void {
  const check = (segments: readonly string[], what: string): void => {
    for (const segment of segments) {
      const why = whyNotPortable(segment)
      if (why !== undefined) fail('EBADTORRENT', `${what} ${JSON.stringify(segments.join('/'))} ${why}; ${context.advice}`)
    }
  }
  if (name !== undefined) check([name], 'the name')
  for (const path of paths) check(path.split('/'), 'the path')
  const mapped = portablePaths(paths)
  for (let i = 0; i < paths.length; i++) {
    if (mapped[i] === paths[i]) continue
    // Name the earlier file or folder it clashed with: the first with the same folded prefix.
    const segments = paths[i]!.split('/')
    const at = segments.findIndex((s, k) => s !== mapped[i]!.split('/')[k])
    const key = foldName(segments.slice(0, at + 1).join('/'))
    const other = paths.slice(0, i).find((p) => foldName(p.split('/').slice(0, at + 1).join('/')) === key) ?? ''
    fail('EBADTORRENT', `${JSON.stringify(other)} and ${JSON.stringify(paths[i])} would clash on Windows and macOS, which do not tell names apart by case or Unicode normalisation; ${context.advice}`)
  }
}
