import { createHash } from 'node:crypto'
import { fail } from '../errors.js'
import { asInfoHash, type InfoHash } from '../util/ids.js'
import type { FileEntry, Metainfo } from './types.js'
import {
  asBytes, asDict, asList, asString, decodeBounded, findDictValueSpan, getBytes, getDict, getInt, getList,
  type BencodeDict, type BencodeValue, type DecodeLimits
} from './bencode.js'
import { checkPathConflicts, FROM_TORRENT, validateName, validatePath } from './paths.js'
import { portablePaths, portableSegment } from './portable.js'
import { readUrlList } from './url-list.js'
import { hybridMetainfo, readPieceLayers, readV2Info, truncatedInfoHash, v2Metainfo } from './v2-parse.js'

export const MAX_TORRENT_BYTES = 64 * 1024 * 1024
export const MAX_BENCODE_DEPTH = 64
export const MAX_PIECE_LENGTH = 128 * 1024 * 1024
export const MAX_FILES = 100_000

const LIMITS: DecodeLimits = { maxBytes: MAX_TORRENT_BYTES, maxDepth: MAX_BENCODE_DEPTH, code: 'EBADTORRENT' }
const ADVICE = FROM_TORRENT.advice
/** Pad files written by BitComet before BEP47 existed; libtorrent treats them as pad files too. */
const BITCOMET_PAD = '_____padding_file_'

function bad (message: string): never {
  return fail('EBADTORRENT', `${message}; ${ADVICE}`)
}

export function sha1 (bytes: Uint8Array): InfoHash {
  return asInfoHash(createHash('sha1').update(bytes).digest())
}

/**
 * Reads a whole .torrent file. Trackers (`announce`, `announce-list`) are ignored by design;
 * BEP19 web seeds (`url-list`) are kept, those we cannot use left out. The
 * infohash is the SHA-1 of the `info` value's bytes exactly as they appear in the file.
 */
export function parseTorrent (bytes: Uint8Array): Metainfo {
  const root = asDict(decodeBounded(bytes, LIMITS), 'torrent file')
  const info = getDict(root, 'info', { required: true, where: 'torrent file' })
  const span = findDictValueSpan(bytes, 'info', LIMITS)
  if (span === undefined) return bad('torrent file has no info dictionary')
  const raw = Buffer.from(bytes.subarray(span.start, span.end))
  const webSeeds = Object.hasOwn(root, 'url-list') ? readUrlList(root['url-list']) : []
  const meta = fromInfoDict(info, raw, sha1(raw))
  const pieceLayers = readPieceLayers(bytes, meta)
  return { ...meta, ...(pieceLayers !== undefined ? { pieceLayers } : {}), ...(webSeeds.length > 0 ? { webSeeds } : {}) }
}

/**
 * Reads a bencoded info dictionary, as served by peers (BEP9). When `expected` is given the bytes
 * must hash to it: metadata from a peer that does not match the infohash we asked for is forged.
 */
export function parseInfo (info: Uint8Array, expected?: InfoHash): Metainfo {
  const infoHash = sha1(info)
  // A v2-only torrent is named by its truncated SHA-256; fromInfoDict recomputes which applies.
  if (expected !== undefined && !infoHash.equals(expected) && !truncatedInfoHash(createHash('sha256').update(info).digest()).equals(expected)) {
    fail('EBADTORRENT', `metadata hashes to ${infoHash.toString('hex')}, not the expected ${expected.toString('hex')}; it is corrupt or forged, fetch it from another peer`)
  }
  const dict = asDict(decodeBounded(info, LIMITS), 'info')
  return fromInfoDict(dict, Buffer.from(info), infoHash)
}

/** BEP3 strings are UTF-8 by convention, but old torrents carry `.utf-8` twins when the plain
 *  field is in a legacy encoding; those are preferred, and a plain field that is not valid UTF-8
 *  is decoded with replacement characters rather than rejected. */
function readText (value: BencodeValue, utf8Twin: BencodeValue | undefined, what: string): string {
  if (utf8Twin !== undefined) {
    try {
      return asString(utf8Twin, what)
    } catch {
      // A broken twin is no reason to reject the torrent: the plain field is still there.
    }
  }
  return asBytes(value, what).toString('utf8')
}

function readSegments (list: BencodeValue[], what: string): string[] {
  return list.map((segment, i) => asBytes(segment, `${what}[${i}]`).toString('utf8'))
}

function readPath (file: BencodeDict, where: string): string[] {
  const plain = getList(file, 'path', { required: true, where })
  const twin = Object.hasOwn(file, 'path.utf-8') ? file['path.utf-8'] : undefined
  if (twin !== undefined) {
    try {
      return asList(twin, `${where} path.utf-8`).map((segment, i) => asString(segment, `${where} path.utf-8[${i}]`))
    } catch {
      // Fall back to the plain path, as for names.
    }
  }
  return readSegments(plain, `${where} path`)
}

function readAttr (dict: BencodeDict, where: string): string {
  if (!Object.hasOwn(dict, 'attr')) return ''
  return asBytes(dict['attr']!, `${where} field "attr"`).toString('latin1')
}

function isPad (segments: readonly string[], attr: string): boolean {
  return attr.includes('p') || segments[0] === '.pad' || segments[segments.length - 1]!.startsWith(BITCOMET_PAD)
}

function readLength (dict: BencodeDict, where: string): number {
  const length = getInt(dict, 'length', { required: true, where })
  if (length < 0) bad(`${where} has a negative length`)
  return length
}

function readFiles (list: BencodeValue[]): FileEntry[] {
  if (list.length === 0) bad('torrent has an empty file list')
  if (list.length > MAX_FILES) bad(`torrent has ${list.length} files, more than the ${MAX_FILES} supported`)
  const files: FileEntry[] = []
  let offset = 0
  for (let i = 0; i < list.length; i++) {
    const where = `files[${i}]`
    const file = asDict(list[i]!, where)
    const length = readLength(file, where)
    const segments = readPath(file, where)
    const path = validatePath(segments)
    const attr = readAttr(file, where)
    files.push({ path, length, offset, pad: isPad(segments, attr), attr })
    offset += length
    if (!Number.isSafeInteger(offset)) bad('torrent total length is too large')
  }
  const stored = files.filter((f) => !f.pad)
  checkPathConflicts(stored.map((f) => f.path))
  // Files are known by their portable names from here on: on disk, in the Archive, to the user.
  const portable = portablePaths(stored.map((f) => f.path))
  stored.forEach((f, i) => { f.path = portable[i]! })
  return files
}

function fromInfoDict (info: BencodeDict, raw: Buffer, infoHash: InfoHash): Metainfo {
  const v2 = readV2Info(info, raw, MAX_FILES)
  if (v2 === undefined && !Object.hasOwn(info, 'pieces')) bad('info dictionary has no "pieces" field')
  const pieceLength = getInt(info, 'piece length', { required: true, where: 'info' })
  if (pieceLength <= 0 || pieceLength > MAX_PIECE_LENGTH) {
    bad(`piece length ${pieceLength} is not between 1 and ${MAX_PIECE_LENGTH}`)
  }
  const plainName = Object.hasOwn(info, 'name') ? info['name']! : bad('info dictionary has no "name"')
  const rawName = validateName(readText(plainName, Object.hasOwn(info, 'name.utf-8') ? info['name.utf-8'] : undefined, 'info field "name"'))
  const name = portableSegment(rawName)
  const isPrivate = getInt(info, 'private', { where: 'info' }) === 1
  if (v2 !== undefined && !Object.hasOwn(info, 'pieces')) return v2Metainfo(v2, { name, rawName, pieceLength, raw, private: isPrivate })

  const pieceHashes = getBytes(info, 'pieces', { required: true, where: 'info' })
  const hasLength = Object.hasOwn(info, 'length')
  const hasFiles = Object.hasOwn(info, 'files')
  if (hasLength === hasFiles) bad('info dictionary must have exactly one of "length" (one file) and "files" (several)')
  const multiFile = hasFiles
  const files = multiFile
    ? readFiles(asList(info['files']!, 'info field "files"'))
    : [{ path: name, length: readLength(info, 'info'), offset: 0, pad: false, attr: readAttr(info, 'info') }]

  const last = files[files.length - 1]!
  const length = last.offset + last.length
  // An empty torrent (only empty files) has no pieces, and so an empty "pieces" string: there is
  // nothing to verify or transfer, and creating one must still be possible for empty archives.
  const pieceCount = Math.ceil(length / pieceLength)
  if (pieceHashes.length !== pieceCount * 20) {
    bad(`"pieces" is ${pieceHashes.length} bytes but ${pieceCount} pieces need ${pieceCount * 20}`)
  }
  const meta: Metainfo = { version: 1, infoHash, name, pieceLength, length, files, pieceCount, pieceHashes, info: raw, multiFile, private: isPrivate }
  return v2 === undefined ? meta : hybridMetainfo(meta, v2, rawName)
}
