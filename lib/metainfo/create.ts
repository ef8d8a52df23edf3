import bencode from 'bencode'
import type { EncodableValue } from 'bencode'
import { fail } from '../errors.js'
import type { FileEntry, Metainfo, MetainfoVersion } from './types.js'
import { checkedPieceLayers, compareTreePaths, encodePieceLayers, fileTree } from './create-v2.js'
import { checkPathConflicts, splitPath, validateName, type PathContext } from './paths.js'
import { checkPortable } from './portable.js'
import { MAX_FILES, MAX_PIECE_LENGTH, parseInfo } from './torrent.js'
import { checkWebSeeds } from './url-list.js'

export const MIN_CHOSEN_PIECE_LENGTH = 16 * 1024
export const MAX_CHOSEN_PIECE_LENGTH = 16 * 1024 * 1024
/** Enough pieces for fine-grained streaming and swarming, few enough to keep the info small. */
const TARGET_MAX_PIECES = 2000

const CREATING: PathContext = { what: 'file path', advice: 'rename the file before seeding it' }
/** Attributes a caller may set; 'p' is reserved for the pad files this module inserts. */
const USER_ATTRS = /^[xhl]*$/

function bad (message: string): never {
  return fail('EBADTORRENT', message)
}

function checkLength (length: number, what: string): void {
  if (!Number.isSafeInteger(length) || length < 0) bad(`${what} must be a non-negative integer, got ${length}`)
}

/** A power of two from 16 KiB to 16 MiB giving about 1000-2000 pieces (1 GiB -> 1 MiB). */
export function choosePieceLength (totalBytes: number): number {
  checkLength(totalBytes, 'total size')
  let pieceLength = MIN_CHOSEN_PIECE_LENGTH
  while (pieceLength < MAX_CHOSEN_PIECE_LENGTH && totalBytes / pieceLength > TARGET_MAX_PIECES) pieceLength *= 2
  return pieceLength
}

export interface FileInput {
  /** '/'-separated, relative to the archive root. */
  path: string
  length: number
  /** BEP47 attributes from 'x', 'h', 'l'. */
  attr?: string
}

export interface LayoutOptions {
  /** Insert BEP47 pad files so that every non-empty file after the first starts a piece, which
   *  lets identical files share pieces across torrents and keeps each piece within one file. */
  padToPieces?: boolean
  /** BEP52 order (names compared folder by folder), which v2 and hybrid torrents need. */
  treeOrder?: boolean
}

function checkPieceLength (pieceLength: number): void {
  if (!Number.isSafeInteger(pieceLength) || pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH) {
    bad(`piece length must be an integer from 1 to ${MAX_PIECE_LENGTH}, got ${pieceLength}`)
  }
}

function checkUserFile (path: string, segments: readonly string[], attr: string): void {
  if (segments[0] === '.pad') bad(`${JSON.stringify(path)} is inside ".pad", which is reserved for pad files; rename it`)
  if (!USER_ATTRS.test(attr)) bad(`attributes ${JSON.stringify(attr)} of ${JSON.stringify(path)} may only contain x, h and l`)
}

function padFile (size: number, offset: number): FileEntry {
  return { path: `.pad/${size}`, length: size, offset, pad: true, attr: 'p' }
}

/**
 * Orders files bytewise by their UTF-8 path, so the same tree always gives the same torrent, and
 * assigns offsets. Pad files never follow the last file: they would only add bytes.
 */
export function layoutFiles (files: readonly FileInput[], pieceLength: number, options: LayoutOptions = {}): FileEntry[] {
  checkPieceLength(pieceLength)
  if (files.length > MAX_FILES) bad(`${files.length} files are more than the ${MAX_FILES} a torrent may hold`)
  const sorted = files.map((file) => {
    const segments = splitPath(file.path, CREATING)
    const attr = file.attr ?? ''
    checkUserFile(file.path, segments, attr)
    checkLength(file.length, `length of ${JSON.stringify(file.path)}`)
    return { path: segments.join('/'), key: Buffer.from(file.path, 'utf8'), length: file.length, attr }
  }).sort(options.treeOrder === true ? (a, b) => compareTreePaths(a.path, b.path) : (a, b) => Buffer.compare(a.key, b.key))
  checkPathConflicts(sorted.map((f) => f.path), CREATING)
  // Before any hashing: a seed of a big folder should not end in this refusal.
  checkPortable(undefined, sorted.map((f) => f.path), CREATING)

  const out: FileEntry[] = []
  let offset = 0
  for (const file of sorted) {
    const gap = offset % pieceLength
    if (options.padToPieces === true && file.length > 0 && gap !== 0) {
      out.push(padFile(pieceLength - gap, offset))
      offset += pieceLength - gap
    }
    out.push({ path: file.path, length: file.length, offset, pad: false, attr: file.attr })
    offset += file.length
    if (!Number.isSafeInteger(offset)) bad('total size of the files is too large')
  }
  return out
}

export interface CreateMetainfoOptions {
  name: string
  /** In torrent order with offsets, as `layoutFiles` returns them. */
  files: FileEntry[]
  pieceLength: number
  /** 20-byte SHA-1 per piece, concatenated. */
  pieceHashes: Buffer
  /** false: one file stored at `name` (files[0].path must equal it); true: files under folder `name`. */
  multiFile: boolean
  private?: boolean
  /** BEP19 web seeds (http: or https: URLs) written as `url-list`; a bad one fails with EINVAL. */
  webSeeds?: readonly string[]
  /** Default 1. 2 and 'hybrid' need every non-empty file's `root` and the piece layers of files of
   *  more than one piece; 'hybrid' also the pieces and pad files (layoutFiles with padToPieces and
   *  treeOrder); 2 ignores `pieceHashes`. */
  version?: MetainfoVersion
  /** By hex root, as FileMerkleHasher gives them. */
  pieceLayers?: ReadonlyMap<string, Buffer>
}

function fileDict (file: FileEntry): EncodableValue {
  const segments = splitPath(file.path, CREATING)
  if (file.pad) {
    const attr = file.attr.includes('p') ? file.attr : `${file.attr}p`
    return { attr, length: file.length, path: segments }
  }
  checkUserFile(file.path, segments, file.attr)
  return file.attr === '' ? { length: file.length, path: segments } : { attr: file.attr, length: file.length, path: segments }
}

/**
 * Builds the info dictionary in canonical bencode (sorted keys, no creation date, nothing that
 * varies between runs) and reads it back, so a created torrent is exactly what a parser accepts.
 */
export function createMetainfo (options: CreateMetainfoOptions): Metainfo {
  const { name, files, pieceLength, multiFile } = options
  const version = options.version ?? 1
  const pieceHashes = version === 2 ? Buffer.alloc(Math.ceil(files.reduce((n, f) => n + f.length, 0) / pieceLength) * 20) : options.pieceHashes
  validateName(name, CREATING)
  checkPieceLength(pieceLength)
  if (files.length === 0) bad('a torrent needs at least one file')
  if (files.length > MAX_FILES) bad(`${files.length} files are more than the ${MAX_FILES} a torrent may hold`)
  let offset = 0
  for (const file of files) {
    checkLength(file.length, `length of ${JSON.stringify(file.path)}`)
    if (file.offset !== offset) bad(`${JSON.stringify(file.path)} is at offset ${file.offset} but the files before it end at ${offset}; use layoutFiles to lay them out`)
    offset += file.length
  }
  const pieceCount = Math.ceil(offset / pieceLength)
  if (pieceHashes.length !== pieceCount * 20) bad(`${pieceCount} pieces need ${pieceCount * 20} bytes of hashes, got ${pieceHashes.length}`)

  const info: { [key: string]: EncodableValue } = { name, 'piece length': pieceLength, pieces: pieceHashes }
  if (multiFile) {
    info['files'] = files.map(fileDict)
    checkPathConflicts(files.filter((f) => !f.pad).map((f) => f.path), CREATING)
    checkPortable(name, files.filter((f) => !f.pad).map((f) => f.path), CREATING)
  } else {
    checkPortable(name, [], CREATING)
    const only = files[0]!
    if (files.length !== 1 || only.pad || only.path !== name) bad('a single-file torrent has exactly one file, whose path is the name')
    if (!USER_ATTRS.test(only.attr)) bad(`attributes ${JSON.stringify(only.attr)} of ${JSON.stringify(name)} may only contain x, h and l`)
    info['length'] = only.length
    if (only.attr !== '') info['attr'] = only.attr
  }
  if (options.private === true) info['private'] = 1
  const webSeeds = checkWebSeeds(options.webSeeds ?? [])
  const mirrors = webSeeds.length > 0 ? { webSeeds } : {}
  if (version === 1) return { ...parseInfo(bencode.encode(info)), ...mirrors }
  info['meta version'] = 2
  info['file tree'] = fileTree(files, multiFile, name, pieceLength)
  if (version === 2) {
    for (const key of ['pieces', 'files', 'length', 'attr']) Reflect.deleteProperty(info, key)
  }
  const pieceLayers = checkedPieceLayers(files, pieceLength, options.pieceLayers ?? new Map())
  return { ...parseInfo(bencode.encode(info)), pieceLayers, ...mirrors }
}

/** Top-level fields a caller may add to a .torrent file, such as "created by" or "comment". */
export type TorrentFileExtras = { [key: string]: string | number }

/**
 * A .torrent file: `{ info }` plus the given extras, keys in canonical order. The info bytes are
 * embedded as they are, so the file hashes to `meta.infoHash`.
 */
export function encodeTorrentFile (meta: Metainfo, extras: TorrentFileExtras = {}): Buffer {
  const keys = Object.keys(extras)
  for (const key of keys) {
    const value = extras[key]!
    if (key === 'info') bad('"info" comes from the metainfo and cannot be given as an extra field')
    if (typeof value === 'number' && !Number.isSafeInteger(value)) bad(`extra field ${JSON.stringify(key)} must be an integer, got ${value}`)
  }
  if (keys.includes('piece layers')) bad('"piece layers" comes from the metainfo and cannot be given as an extra field')
  const layers = meta.pieceLayers !== undefined && meta.pieceLayers.size > 0 ? ['piece layers'] : []
  // BEP19: a torrent's web seeds go in the file, outside the info (they are not hashed).
  const urlList = meta.webSeeds !== undefined && meta.webSeeds.length > 0 && !keys.includes('url-list') ? ['url-list'] : []
  const entries = ['info', ...layers, ...keys, ...urlList]
    .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
  const parts: Uint8Array[] = [Buffer.from('d')]
  for (const { key, bytes } of entries) {
    parts.push(Buffer.from(`${bytes.length}:`), bytes)
    parts.push(key === 'info' ? meta.info : key === 'piece layers' ? encodePieceLayers(meta.pieceLayers!) : bencode.encode(key === 'url-list' && urlList.length > 0 ? meta.webSeeds! : extras[key]!))
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}
