import type { EventEmitter } from 'node:events'
import path from 'node:path'
import RandomAccessFile, { type RandomAccessFileOptions, type WriteRequest } from 'random-access-file'
import { fail } from '../errors.js'
import type { Metainfo } from '../metainfo/types.js'
import type { StorageFactory, TorrentStorageFactory } from './types.js'
import { startWriter, writeInBackground } from './file-writer.js'
import { claimEntry } from './ownership.js'
import { deleteOwned } from './delete-owned.js'
import { openBelow } from './safe-open.js'
import { BoundedMemory, type MemoryBudget } from './bounded-memory.js'

export interface DirectoryStorageOptions {
  /** Open existing files for reading only, so that files without write permission can be
   *  seeded; any write then fails. */
  readOnly?: boolean
  /** Download into a torrent's folder or file even when it exists and trackerless did not make
   *  it: its data is verified, what does not match is overwritten, longer files are cut to the
   *  torrent's length. Links are still never followed. */
  overwrite?: boolean
}

/**
 * Files stored under `dir` (created on the first write). A path that would land outside `dir`
 * throws EBADTORRENT: metainfo already rejects such paths, this is the second wall. A writable
 * storage never follows a symbolic link below `dir`, and a torrent opened through forTorrent()
 * writes only into the entry it created (ownership.ts: `.git` lands in `_git`, an existing entry
 * is refused with EEXIST unless `overwrite`).
 */
export function directoryStorage (dir: string, opts: DirectoryStorageOptions = {}): StorageFactory {
  const root = path.resolve(dir)
  if (opts.readOnly === true) {
    return (file, options) => new DiskFile(joinInside(root, file), null, { writable: false, alloc: options?.alloc })
  }
  startWriter()
  const files: TorrentStorageFactory = (file, options) => new DiskFile(joinInside(root, file), root, { alloc: options?.alloc })
  files.forTorrent = async (torrent) => {
    const name = await claimEntry(root, torrent, { overwrite: opts.overwrite === true })
    // Torrent paths start with the torrent's name; on disk they start with the entry's.
    return (file, options) => files(name + file.slice(torrent.name.length), options)
  }
  files.deleteTorrent = async (torrent) => await deleteOwned(root, torrent)
  return files
}

/** The factory to open `meta`'s files with: the one a TorrentStorageFactory makes for it, once
 *  it has taken its place on disk (which may refuse), or `factory` itself. */
export async function storageFor (factory: StorageFactory, meta: Metainfo): Promise<StorageFactory> {
  const forTorrent = (factory as TorrentStorageFactory).forTorrent
  if (forTorrent === undefined) return factory
  return await forTorrent({ infoHash: meta.infoHash.toString('hex'), name: meta.name, multiFile: meta.multiFile, files: meta.files })
}

/** random-access-file with its writes on the writing thread (file-writer.ts says why) and, below
 *  a `root`, opens that never follow a link (safe-open.ts). */
class DiskFile extends RandomAccessFile {
  private readonly root: string | null

  constructor (filename: string, root: string | null, opts: RandomAccessFileOptions) {
    super(filename, opts)
    this.root = root
  }

  override _open (req: { callback (err: Error | null): void }): void {
    if (this.root === null) return super._open(req)
    openBelow(this.root, this.filename, this.mode, this.writing).then((fd) => {
      this.fd = fd
      req.callback(null)
    }, (err: Error) => req.callback(err))
  }

  override _write (req: WriteRequest): void {
    writeInBackground(this.fd, req.data.subarray(0, req.size), req.offset, (err) => req.callback(err))
  }
}

/** `root` + the '/'-separated relative `file`, or EBADTORRENT when the result is not strictly inside `root`. */
export function joinInside (root: string, file: string): string {
  if (file.length === 0 || file.includes('\0') || path.isAbsolute(file) || path.win32.isAbsolute(file)) {
    fail('EBADTORRENT', `File path "${file}" is not a relative path; refusing to store it outside "${root}".`)
  }
  const full = path.resolve(root, file)
  const rel = path.relative(root, full)
  if (rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel)) {
    fail('EBADTORRENT', `File path "${file}" escapes the folder "${root}"; refusing to store it.`)
  }
  return full
}

/** Options of memoryStorage(). */
export interface MemoryStorageOptions {
  /** Bytes all its files may hold together (MemoryBudget); Infinity (default): no limit. */
  limit?: number
}

/**
 * Files held in memory while they are open, and freed when closed: a gateway or a long-lived client
 * opens archive after archive, and memory kept for a reopen that may never come grows without
 * bound. So a torrent reopened after its files closed starts empty (no resume in memory); a file
 * opened again while another opener still holds it gets a copy of its contents. Two torrents open
 * at once never share a file: closing one cannot close the other's (two versions of a mutable
 * archive with the same file names), and each writes only its own. A write past `limit` fails
 * with ENOMEM (bounded-memory.ts).
 */
export function memoryStorage (opts: MemoryStorageOptions = {}): StorageFactory {
  const budget: MemoryBudget = { limit: opts.limit ?? Infinity, used: 0 }
  const open = new Map<string, BoundedMemory>()
  return (file) => {
    const fresh = open.get(file)?.copy() ?? new BoundedMemory(budget)
    open.set(file, fresh)
    // random-access-storage is an EventEmitter; the local typings leave that out.
    ;(fresh as unknown as EventEmitter).once('close', () => {
      if (open.get(file) === fresh) open.delete(file)
      // Whoever still holds the closed file (a swarm kept for its stats) must not keep its pages.
      fresh.release()
    })
    return fresh
  }
}
