import type { EventEmitter } from 'node:events'
import path from 'node:path'
import RandomAccessFile, { type WriteRequest } from 'random-access-file'
import RandomAccessMemory from 'random-access-memory'
import { fail } from '../errors.js'
import type { StorageFactory } from './types.js'
import { startWriter, writeInBackground } from './file-writer.js'

/** Files stored under `dir` (created on the first write). A path that would land outside `dir`
 *  throws EBADTORRENT: metainfo already rejects such paths, this is the second wall.
 *  `readOnly` opens existing files for reading only, so that files without write permission can
 *  be seeded; any write then fails. */
export function directoryStorage (dir: string, opts: { readOnly?: boolean } = {}): StorageFactory {
  const root = path.resolve(dir)
  const writable = opts.readOnly !== true
  if (writable) startWriter()
  return (file, options) => new DiskFile(joinInside(root, file), { writable, alloc: options?.alloc })
}

/** random-access-file with its writes on the writing thread (file-writer.ts says why). */
class DiskFile extends RandomAccessFile {
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

type ReleasableMemory = RandomAccessMemory & { clone?: () => RandomAccessMemory, buffers?: unknown[] }

/**
 * Files held in memory while they are open, and freed when closed: a gateway or a long-lived client
 * opens archive after archive, and memory kept for a reopen that may never come grows without
 * bound. So a torrent reopened after its files closed starts empty (no resume in memory); a file
 * opened again while another opener still holds it gets a copy of its contents. Two torrents open
 * at once never share a file: closing one cannot close the other's (two versions of a mutable
 * archive with the same file names), and each writes only its own.
 */
export function memoryStorage (): StorageFactory {
  const open = new Map<string, ReleasableMemory>()
  return (file) => {
    const fresh: ReleasableMemory = open.get(file)?.clone?.() ?? new RandomAccessMemory()
    open.set(file, fresh)
    // random-access-storage is an EventEmitter; the local typings leave that out.
    ;(fresh as unknown as EventEmitter).once('close', () => {
      if (open.get(file) === fresh) open.delete(file)
      // Whoever still holds the closed file (a swarm kept for its stats) must not keep its pages.
      fresh.buffers = []
    })
    return fresh
  }
}
