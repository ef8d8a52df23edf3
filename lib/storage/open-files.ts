/**
 * The open-file cache of one torrent's storage: a random-access-storage per file, created on first
 * use, at most `maxOpenFiles` of them holding a descriptor (the least recently used is suspended
 * and reopens on demand), and every error turned into a StorageError naming the file.
 */
import { StorageError, storageError } from './storage-error.js'
import type { RandomAccessStorage, StorageFactory } from './types.js'

type Callback<T> = (err: Error | null, value?: T) => void
/** random-access-storage can release a file's descriptor and reopen it on the next operation. */
type Suspendable = RandomAccessStorage & { suspend?: (cb: Callback<void>) => void }

export interface OpenFilesOptions {
  factory: StorageFactory
  /** Each file's path under the storage's root. */
  paths: readonly string[]
  maxOpenFiles: number
  /** The buffers the storages read into (TorrentStorage's spares). */
  alloc: (size: number) => Buffer
  /** Throws once the torrent's storage is closed: nothing may open a file after that. */
  assertOpen: () => void
}

export class OpenFiles {
  private readonly opts: OpenFilesOptions
  private readonly files: (Suspendable | undefined)[]
  /** Files whose descriptor may be open, least recently used first. */
  private readonly inUse = new Map<number, Suspendable>()

  constructor (opts: OpenFilesOptions) {
    this.opts = opts
    this.files = new Array<Suspendable | undefined>(opts.paths.length)
  }

  read (file: number, offset: number, length: number): Promise<Buffer> {
    const storage = this.storageOf(file)
    return this.call<Buffer>(file, 'read', (cb) => storage.read(offset, length, cb), offset, length)
  }

  write (file: number, offset: number, data: Buffer): Promise<void> {
    const storage = this.storageOf(file)
    return this.call<void>(file, 'write', (cb) => storage.write(offset, data, cb), offset, data.length)
  }

  /** The file's stat, as its storage reports it (random-access-file gives mtimeMs). */
  stat (file: number): Promise<{ size: number, mtimeMs?: number }> {
    const storage = this.storageOf(file)
    return this.call<{ size: number, mtimeMs?: number }>(file, 'stat', (cb) => storage.stat(cb))
  }

  /** Current size of a file; 0 when it does not exist. */
  async size (file: number): Promise<number> {
    const storage = this.storageOf(file)
    try {
      const st = await this.call<{ size: number }>(file, 'stat', (cb) => storage.stat(cb))
      return st.size
    } catch (err) {
      if (err instanceof StorageError && err.code === 'ENOENT') return 0
      throw err
    }
  }

  /** Closes every file opened; the first failure rejects, once all have been tried. */
  async close (): Promise<void> {
    this.inUse.clear()
    const closes: Promise<void>[] = []
    for (let i = 0; i < this.files.length; i++) {
      const file = this.files[i]
      if (file !== undefined) closes.push(this.call<void>(i, 'close', (cb) => file.close(cb)))
    }
    for (const r of await Promise.allSettled(closes)) if (r.status === 'rejected') throw r.reason
  }

  private storageOf (file: number): Suspendable {
    // Work that was under way when close() ran must not open files nobody will close.
    this.opts.assertOpen()
    let storage = this.files[file]
    if (storage === undefined) {
      storage = this.opts.factory(this.opts.paths[file]!, { alloc: this.opts.alloc })
      this.files[file] = storage
    }
    this.inUse.delete(file)
    this.inUse.set(file, storage)
    if (this.inUse.size > this.opts.maxOpenFiles) {
      const [oldest, victim] = this.inUse.entries().next().value!
      this.inUse.delete(oldest)
      victim.suspend?.(noop)
    }
    return storage
  }

  private call<T> (file: number, op: string, run: (cb: Callback<T>) => void, offset?: number, length?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      run((err, value) => {
        if (err !== null && err !== undefined) reject(storageError(err, op, this.opts.paths[file]!, offset, length))
        else resolve(value as T)
      })
    })
  }
}

function noop (): void {}
