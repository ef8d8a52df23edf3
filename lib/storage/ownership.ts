/**
 * Which entries of a download folder trackerless made. A torrent's top-level entry (its folder,
 * or its single file) is created by us, or the download is refused: a torrent named `.git` run in
 * a git checkout must not rewrite `.git/config`. A small record per torrent in
 * `<root>/.trackerless/<infohash>.json` says which entry is its own, so that a restart resumes
 * into it; it is written (atomically) before the entry is created, so a kill between the two
 * leaves a state that resumes.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fail, TrackerlessError } from '../errors.js'
import { StorageError } from './torrent-storage.js'
import { checkFolders, lstatOrNull, openBelow, symlinkError } from './safe-open.js'

/** The folder of ownership records, in the storage root. */
export const RECORDS = '.trackerless'
const RECORD_MAX_BYTES = 4096
/** Records read when looking for another torrent that made an entry; a bound, not a limit users meet. */
const RECORDS_SCANNED = 10_000

export interface OwnedTorrent {
  /** Hex. */
  infoHash: string
  name: string
  multiFile: boolean
  files: ReadonlyArray<{ path: string, length: number, pad?: boolean }>
}

export interface ClaimOptions {
  /** Use an entry that exists but is not ours (libtorrent's way): its files are verified, what
   *  does not match is overwritten, and files longer than the torrent says are cut to length. */
  overwrite?: boolean
}

/**
 * The name of a torrent's top-level entry on disk. A leading '.' becomes '_' (`.git` → `_git`):
 * a download never creates or enters a hidden entry of the output folder (.git, .ssh, .bashrc),
 * which tools run from that folder would read. The Archive's paths keep the torrent's name.
 */
export function diskName (name: string): string {
  return name.startsWith('.') ? '_' + name.slice(1) : name
}

/**
 * Makes `<root>/<diskName>` this torrent's own, or refuses with EEXIST (an entry we did not make)
 * or ELOOP (a link). Returns the on-disk name.
 */
export async function claimEntry (root: string, torrent: OwnedTorrent, opts: ClaimOptions = {}): Promise<string> {
  const name = diskName(torrent.name)
  try {
    return await claim(root, name, torrent, opts)
  } catch (err) {
    if (err instanceof TrackerlessError) throw err
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
    const entry = path.join(root, name)
    throw new StorageError(code, `Could not prepare "${entry}" for the download: ${(err as Error).message}. ${HINTS[code] ?? 'Check the output folder, then try again.'}`, entry, err)
  }
}

const HINTS: Record<string, string> = {
  EROFS: 'The file system is read-only; choose another output folder.',
  EACCES: 'Check the permissions of the output folder.',
  EPERM: 'Check the permissions of the output folder.',
  ENOSPC: 'Free some disk space, then try again.'
}

async function claim (root: string, name: string, torrent: OwnedTorrent, opts: ClaimOptions): Promise<string> {
  const entry = path.join(root, name)
  const records = path.join(root, RECORDS)
  await fs.promises.mkdir(root, { recursive: true })
  if (await readRecord(records, torrent.infoHash) === name) {
    await createEntry(root, entry, torrent.multiFile, false)
    return name
  }
  const found = await lstatOrNull(entry)
  if (found?.isSymbolicLink() === true) throw symlinkError(entry)
  const adopted = found !== null
  if (adopted && opts.overwrite !== true && !await recordedByAnother(records, name)) {
    fail('EEXIST', `"${entry}" already exists and trackerless did not download it there; it was left untouched. Choose another output folder, move it away, or (CLI) pass --force to verify it and overwrite what does not match`)
  }
  await writeRecord(records, torrent.infoHash, name)
  await createEntry(root, entry, torrent.multiFile, !adopted)
  if (adopted) await cutToLength(root, name, torrent)
  return name
}

/** The entry as the torrent needs it: a folder for a multi-file torrent, else a file; never a
 *  link. `fresh`: it did not exist a moment ago, and must still not. */
async function createEntry (root: string, entry: string, multiFile: boolean, fresh: boolean): Promise<void> {
  if (multiFile) {
    await checkFolders(root, entry, true)
  } else {
    const fd = await openBelow(root, entry, fs.constants.O_RDONLY | (fresh ? fs.constants.O_EXCL : 0), true)
    await new Promise<void>((resolve) => fs.close(fd, () => resolve()))
  }
}

/** Files of an adopted entry longer than the torrent says: no old tail survives behind the data. */
async function cutToLength (root: string, name: string, torrent: OwnedTorrent): Promise<void> {
  for (const file of torrent.files) {
    if (file.pad === true) continue
    const at = torrent.multiFile ? path.join(root, name, ...file.path.split('/')) : path.join(root, name)
    let fd: number
    try {
      fd = await openBelow(root, at, fs.constants.O_WRONLY, false)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    try {
      if (fs.fstatSync(fd).size > file.length) fs.ftruncateSync(fd, file.length)
    } finally {
      fs.closeSync(fd)
    }
  }
}

/** The records folder, created when `create`; never a link. */
async function recordsFolder (records: string, create: boolean): Promise<boolean> {
  const st = await lstatOrNull(records)
  if (st === null) {
    if (!create) return false
    await checkFolders(path.dirname(records), records, true)
    return true
  }
  if (st.isSymbolicLink()) throw symlinkError(records)
  if (!st.isDirectory()) fail('ENOTDIR', `"${records}" is not a folder, but trackerless keeps its download records there. Move it away, or choose another output folder`)
  return true
}

/** The entry name a record holds; null when there is none or it is unreadable (then the entry is not ours). */
async function readRecordFile (file: string): Promise<string | null> {
  let handle: fs.promises.FileHandle
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ELOOP') return null
    throw err
  }
  try {
    const buf = Buffer.alloc(RECORD_MAX_BYTES)
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0)
    const parsed = JSON.parse(buf.subarray(0, bytesRead).toString('utf8')) as { name?: unknown }
    return typeof parsed.name === 'string' ? parsed.name : null
  } catch {
    return null
  } finally {
    await handle.close()
  }
}

/** The entry recorded as `infoHash`'s own in the records folder `records`; null when none. */
export async function readRecord (records: string, infoHash: string): Promise<string | null> {
  if (!await recordsFolder(records, false)) return null
  return await readRecordFile(path.join(records, `${infoHash}.json`))
}

/** Whether another torrent downloaded here made the entry: a new version of a mutable archive
 *  takes over the files of the one before. */
async function recordedByAnother (records: string, name: string): Promise<boolean> {
  if (!await recordsFolder(records, false)) return false
  const files = (await fs.promises.readdir(records)).filter((f) => /^[0-9a-f]{40}\.json$/.test(f)).slice(0, RECORDS_SCANNED)
  for (const file of files) {
    if (await readRecordFile(path.join(records, file)) === name) return true
  }
  return false
}

/** Written to a fresh temporary file, synced, then renamed: a reader sees the whole record or none. */
async function writeRecord (records: string, infoHash: string, name: string): Promise<void> {
  await recordsFolder(records, true)
  const temp = path.join(records, `${infoHash}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await fs.promises.open(temp, 'wx', 0o644)
  try {
    await handle.writeFile(JSON.stringify({ name }) + '\n')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await fs.promises.rename(temp, path.join(records, `${infoHash}.json`))
  } catch (err) {
    await fs.promises.rm(temp, { force: true })
    throw err
  }
}
