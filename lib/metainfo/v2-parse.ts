import { createHash } from 'node:crypto'
import { fail } from '../errors.js'
import { asInfoHash, type InfoHash } from '../util/ids.js'
import { findDictValueSpan, getDict, getInt, scanString, scanValue, type BencodeDict, type ByteSpan } from './bencode.js'
import { readFileTree, type TreeFile } from './file-tree.js'
import { filePieceCount, HASH_SIZE, isV2PieceLength, rootFromPieceLayer } from './merkle.js'
import { checkPathConflicts, FROM_TORRENT } from './paths.js'
import { portablePaths } from './portable.js'
import type { FileEntry, Metainfo } from './types.js'

/** The v2 part of an info dictionary (BEP52), before it is joined with a v1 part or stands alone. */
export interface V2Info {
  /** SHA-256 of the info dictionary's bytes. */
  infoHashV2: Buffer
  files: TreeFile[]
}

function bad (message: string): never {
  return fail('EBADTORRENT', `${message}; ${FROM_TORRENT.advice}`)
}

export function sha256 (bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

/** What the handshake, DHT and BEP9 use to name a v2-only torrent: its SHA-256 cut to 20 bytes. */
export function truncatedInfoHash (infoHashV2: Buffer): InfoHash {
  return asInfoHash(Buffer.from(infoHashV2.subarray(0, 20)))
}

/**
 * Reads `meta version` and `file tree`. Undefined for a v1 torrent (no `meta version`); a version
 * other than 2 is refused, as BEP52 asks, since its layout and hashes cannot be known.
 */
export function readV2Info (info: BencodeDict, raw: Buffer, maxFiles: number): V2Info | undefined {
  const version = getInt(info, 'meta version', { where: 'info' })
  if (version === undefined) return undefined
  if (version !== 2) bad(`torrent has meta version ${version}, and only 1 and 2 are known`)
  const tree = getDict(info, 'file tree', { required: true, where: 'info' })
  return { infoHashV2: sha256(raw), files: readFileTree(tree, { maxFiles }) }
}

/** A pad entry in the layout: v2 files start on piece boundaries, and storage pads between them. */
function gap (size: number, offset: number): FileEntry {
  return { path: `.pad/${size}`, length: size, offset, pad: true, attr: 'p' }
}

/**
 * Lays the v2 files out as storage expects: every non-empty file starts a piece, with pad entries
 * between them (never after the last file), as libtorrent does for hybrid torrents.
 */
export function layoutV2 (files: readonly TreeFile[], pieceLength: number, multiFile: boolean, name: string): FileEntry[] {
  const out: FileEntry[] = []
  let offset = 0
  for (const file of files) {
    const rest = offset % pieceLength
    if (file.length > 0 && rest !== 0) {
      out.push(gap(pieceLength - rest, offset))
      offset += pieceLength - rest
    }
    const path = multiFile ? file.segments.join('/') : name
    out.push({ path, length: file.length, offset, pad: false, attr: file.attr, ...(file.root === undefined ? {} : { root: file.root }) })
    offset += file.length
    if (!Number.isSafeInteger(offset)) bad('torrent total length is too large')
  }
  return out
}

/** True when the tree holds one file directly under it, named as the torrent: a single-file torrent. */
function isSingleFile (files: readonly TreeFile[], name: string): boolean {
  return files.length === 1 && files[0]!.segments.length === 1 && files[0]!.segments[0] === name
}

export interface V2Common {
  name: string
  /** The name before it was made portable: what the file tree of a single-file torrent uses. */
  rawName: string
  pieceLength: number
  raw: Buffer
  private: boolean
}

/** A v2-only torrent: no SHA-1 piece hashes; its infohash is the truncated SHA-256. */
export function v2Metainfo (v2: V2Info, common: V2Common): Metainfo {
  const { name, pieceLength } = common
  if (!isV2PieceLength(pieceLength)) bad(`piece length ${pieceLength} is not a power of two of at least 16 KiB, as v2 needs`)
  const multiFile = !isSingleFile(v2.files, common.rawName)
  const files = layoutV2(v2.files, pieceLength, multiFile, name)
  if (multiFile) {
    const stored = files.filter((f) => !f.pad)
    checkPathConflicts(stored.map((f) => f.path))
    const portable = portablePaths(stored.map((f) => f.path))
    stored.forEach((f, i) => { f.path = portable[i]! })
  }
  const last = files[files.length - 1]!
  let length = last.offset + last.length
  // The last piece is whole, its tail padding, as libtorrent lays v2-only torrents out: it asks
  // that piece as a whole piece and would find a shorter one out of range.
  if (length % pieceLength !== 0) {
    files.push(gap(pieceLength - length % pieceLength, length))
    length = files[files.length - 1]!.offset + files[files.length - 1]!.length
  }
  return {
    version: 2,
    infoHash: truncatedInfoHash(v2.infoHashV2),
    infoHashV2: v2.infoHashV2,
    name,
    pieceLength,
    length,
    files,
    pieceCount: Math.ceil(length / pieceLength),
    pieceHashes: Buffer.alloc(0),
    info: common.raw,
    multiFile,
    private: common.private
  }
}

function describe (file: FileEntry): string {
  return JSON.stringify(file.path)
}

/**
 * Joins the v2 part to a parsed v1 torrent: both must describe the same files, in the same order,
 * with the same lengths, each non-empty file starting a piece (v1 pad files fill the gaps). A
 * hybrid whose halves disagree would download different data depending on the peer.
 */
export function hybridMetainfo (v1: Metainfo, v2: V2Info, rawName: string): Metainfo {
  if (!isV2PieceLength(v1.pieceLength)) bad(`piece length ${v1.pieceLength} is not a power of two of at least 16 KiB, as v2 needs`)
  const stored = v1.files.filter((f) => !f.pad)
  if (v1.multiFile === isSingleFile(v2.files, rawName) || stored.length !== v2.files.length) {
    bad(`the v1 file list (${stored.length} files) and the v2 file tree (${v2.files.length} files) of this hybrid torrent differ`)
  }
  const expected = layoutV2(v2.files, v1.pieceLength, v1.multiFile, rawName).filter((f) => !f.pad)
  const files = v1.files.map((f) => ({ ...f }))
  // v1 paths come out of the parser made portable; the tree's, made portable as one batch, match
  // them exactly when the raw paths match.
  const treePaths = portablePaths(v2.files.map((f) => f.segments.join('/')))
  let at = 0
  for (const file of files) {
    if (file.pad) continue
    const want = expected[at]!
    const tree = v2.files[at++]!
    // v1 paths are made portable by the parser: compare them with the tree's made the same way.
    if (v1.multiFile && treePaths[at - 1] !== file.path) {
      bad(`file ${at - 1} of this hybrid torrent is ${describe(file)} in v1 but ${JSON.stringify(tree.segments.join('/'))} in v2`)
    }
    if (file.length !== tree.length) bad(`${describe(file)} is ${file.length} bytes in v1 but ${tree.length} in v2 of this hybrid torrent`)
    if (file.length > 0 && file.offset !== want.offset) {
      bad(`${describe(file)} does not start on a piece boundary in the v1 part of this hybrid torrent, as v2 needs`)
    }
    if (tree.root !== undefined) file.root = tree.root
  }
  return { ...v1, files, version: 'hybrid', infoHashV2: v2.infoHashV2 }
}

/** Reads a dictionary of byte strings to byte strings from bytes already checked as bencode. */
function readStringDict (bytes: Buffer, span: ByteSpan): Array<{ key: Buffer, value: Buffer }> {
  if (bytes[span.start] !== 0x64) bad('"piece layers" is not a dictionary')
  const out: Array<{ key: Buffer, value: Buffer }> = []
  const key: ByteSpan = { start: 0, end: 0 }
  const value: ByteSpan = { start: 0, end: 0 }
  let pos = span.start + 1
  while (pos < span.end - 1) {
    pos = scanString(bytes, pos, 'EBADTORRENT', key)
    const c = bytes[pos]!
    if (c < 0x30 || c > 0x39) bad('a "piece layers" entry is not a byte string')
    pos = scanString(bytes, pos, 'EBADTORRENT', value)
    out.push({ key: bytes.subarray(key.start, key.end), value: bytes.subarray(value.start, value.end) })
  }
  return out
}

/**
 * Reads the top-level `piece layers` of a .torrent: for each file of more than one piece, the
 * hashes of its pieces, which must hash up to the file's root (else the file is refused). Layers
 * naming no file are ignored; a missing layer stays missing (peers can send it, BEP52).
 */
export function readPieceLayers (file: Uint8Array, meta: Metainfo): Map<string, Buffer> | undefined {
  if (meta.version === 1) return undefined
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
  const span = findDictValueSpan(bytes, 'piece layers')
  if (span === undefined) return undefined
  scanValue(bytes, span.start, 2, 'EBADTORRENT')
  const wanted = new Map<string, number>()
  for (const f of meta.files) {
    if (f.root !== undefined && filePieceCount(f.length, meta.pieceLength) > 1) wanted.set(f.root.toString('hex'), f.length)
  }
  const layers = new Map<string, Buffer>()
  for (const { key, value } of readStringDict(bytes, span)) {
    const hex = key.toString('hex')
    const length = wanted.get(hex)
    if (length === undefined || key.length !== HASH_SIZE) continue
    const pieces = filePieceCount(length, meta.pieceLength)
    if (value.length !== pieces * HASH_SIZE) bad(`the piece layer of a file of ${pieces} pieces is ${value.length} bytes, not ${pieces * HASH_SIZE}`)
    if (!rootFromPieceLayer(value, meta.pieceLength, length).equals(key)) bad('a piece layer does not hash to its file\'s root')
    layers.set(hex, Buffer.from(value))
  }
  return layers
}
