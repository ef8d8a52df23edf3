import fs from 'node:fs/promises'
import path from 'node:path'
import { Bitfield } from '../util/bitfield.js'
import type { FileMap } from './file-map.js'

/**
 * Resume data: the pieces verified, with each file's size and modification time when they were.
 * At the next start a piece whose files all still have that size and mtime is taken as saved
 * (verified if the bit is set, absent if not) without reading it; a piece of any other file is
 * read and hashed as before. The file lives in the user's state folder, but it is parsed as
 * untrusted input: any doubt about it means a full check, never trust.
 */

/** A file's size and mtime in whole microseconds; null when the storage gives no mtime (memory). */
export interface FileStamp { size: number, mtime: number }

export interface ResumeRecord {
  readonly pieceCount: number
  /** Bits in BitTorrent order, (pieceCount + 7) >> 3 bytes. */
  readonly have: Bitfield
  /** Per file of the torrent (pad files included, as null): its stamp when `have` was taken. */
  readonly files: ReadonlyArray<FileStamp | null>
}

const VERSION = 1
const DIR = 'resume'
/** Bytes of JSON per file at most: `[size,mtime],` with both numbers up to 16 digits. */
const BYTES_PER_FILE = 40
const OVERHEAD = 512

/** Why a resume file was not used; the scan then checks every piece. */
export class ResumeRejected extends Error {
  override readonly name = 'ResumeRejected'
}

/** The largest resume file that a torrent of this shape can have; a bigger one is not read. */
export function maxResumeSize (pieceCount: number, fileCount: number): number {
  return Math.ceil(((pieceCount + 7) >> 3) / 3) * 4 + fileCount * BYTES_PER_FILE + OVERHEAD
}

export function resumePath (stateDir: string, infoHash: string): string {
  return path.join(stateDir, DIR, `${infoHash}.json`)
}

export function encodeResume (infoHash: string, rec: ResumeRecord): string {
  return JSON.stringify({
    v: VERSION,
    infoHash,
    pieces: rec.pieceCount,
    have: rec.have.buffer.toString('base64'),
    files: rec.files.map((f) => f === null ? null : [f.size, f.mtime])
  })
}

/** The record in `text`, or ResumeRejected saying what is wrong with it. */
export function decodeResume (text: string, infoHash: string, pieceCount: number, fileCount: number): ResumeRecord {
  if (text.length > maxResumeSize(pieceCount, fileCount)) reject(`it is ${text.length} bytes, more than a torrent of ${pieceCount} pieces and ${fileCount} files needs`)
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    reject('it is not valid JSON')
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) reject('it is not a JSON object')
  const o = data as Record<string, unknown>
  if (o.v !== VERSION) reject(`its version is ${describe(o.v)}, not ${VERSION}`)
  if (o.infoHash !== infoHash) reject('it belongs to another torrent')
  if (o.pieces !== pieceCount) reject(`it has ${describe(o.pieces)} pieces, the torrent ${pieceCount}`)
  if (typeof o.have !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(o.have)) reject('its piece set is not base64')
  const bits = Buffer.from(o.have, 'base64')
  if (bits.length !== (pieceCount + 7) >> 3) reject(`its piece set is ${bits.length} bytes, not ${(pieceCount + 7) >> 3}`)
  const spare = (bits.length << 3) - pieceCount
  if (spare > 0 && (bits[bits.length - 1]! & ((1 << spare) - 1)) !== 0) reject('its piece set has bits past the last piece')
  if (!Array.isArray(o.files) || o.files.length !== fileCount) reject(`it does not list the torrent's ${fileCount} files`)
  const files = (o.files as unknown[]).map((f): FileStamp | null => {
    if (f === null) return null
    if (!Array.isArray(f) || f.length !== 2 || !f.every(isCount)) reject('a file entry is not [size, mtime]')
    return { size: f[0] as number, mtime: f[1] as number }
  })
  return { pieceCount, have: new Bitfield(pieceCount, bits), files }
}

/**
 * The saved record of `infoHash`; null when there is none. A record that cannot be read or used
 * rejects with ResumeRejected (the caller reports it and checks everything).
 */
export async function loadResume (stateDir: string, infoHash: string, pieceCount: number, fileCount: number): Promise<ResumeRecord | null> {
  const file = resumePath(stateDir, infoHash)
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    reject(`it cannot be opened (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  try {
    const st = await handle.stat()
    if (!st.isFile()) reject('it is not a regular file')
    const max = maxResumeSize(pieceCount, fileCount)
    if (st.size > max) reject(`it is ${st.size} bytes, more than a torrent of ${pieceCount} pieces and ${fileCount} files needs`)
    const buf = Buffer.alloc(max + 1)
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0)
    return decodeResume(buf.subarray(0, bytesRead).toString('utf8'), infoHash, pieceCount, fileCount)
  } finally {
    await handle.close()
  }
}

/** Replaces the record atomically: a crash leaves the old one or the new one, never a mix. */
export async function saveResume (stateDir: string, infoHash: string, rec: ResumeRecord): Promise<void> {
  const file = resumePath(stateDir, infoHash)
  await fs.mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, encodeResume(infoHash, rec))
  await fs.rename(tmp, file)
}

/**
 * The pieces the scan may take from `rec` without reading them: those whose every non-pad file
 * has the stamp it had when `rec` was saved. A file without a stamp now or then is never trusted.
 */
export function trustedPieces (rec: ResumeRecord, map: FileMap, now: ReadonlyArray<FileStamp | null>): Bitfield {
  const same = rec.files.map((then, i) => then !== null && now[i] != null && then.size === now[i]!.size && then.mtime === now[i]!.mtime)
  const pad = map.layout.files.map((f) => f.pad === true)
  const trusted = new Bitfield(rec.pieceCount)
  for (let i = 0; i < rec.pieceCount; i++) {
    if (map.pieceSegments(i).every((seg) => pad[seg.file] === true || same[seg.file] === true)) trusted.set(i)
  }
  return trusted
}

/** A value of the file in a message: numbers as such, anything else by its type (a crafted object cannot run code). */
function describe (v: unknown): string {
  return typeof v === 'number' ? String(v) : `a ${v === null ? 'null' : typeof v}`
}

function isCount (n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

function reject (reason: string): never {
  throw new ResumeRejected(reason)
}
