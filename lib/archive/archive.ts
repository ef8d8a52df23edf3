import { SelectionControl } from './selection-control.js'
import { constants } from 'node:fs'
import type { Readable } from 'node:stream'
import { FileHandle } from './file-handle.js'
import { TrackerlessError } from '../errors.js'
import { segmentsOf, type FileNode, type Node } from './tree.js'
import { Stats, Dirent } from './stats.js'
import { ReadAheadStream, emptySource } from './stream.js'
import { DraftContents, TorrentContents, type ArchiveContents } from './contents.js'
import { settle, split, type Callback } from './callback.js'
import type { ArchiveBacking, ReadFileOptions, ReaddirOptions, ReadStreamOptions, WriteFileOptions, StatOptions, MakeDirectoryOptions } from './types.js'
import { streamRange, statOptions, checkPath } from './args.js'

export { Stats, Dirent, FileHandle }
export type { Callback }
export type { ArchiveBacking, ArchiveEvents, ReadFileOptions, ReaddirOptions, ReadStreamOptions, WriteFileOptions, StatOptions, MakeDirectoryOptions } from './types.js'

/**
 * A torrent's files, shaped like node:fs/promises; every method also takes a node-style callback
 * as its last argument instead of returning a promise.
 *
 * - `client.lookup()` returns a read-only archive backed by a swarm. Reads wait for the pieces they
 *   need, and those pieces jump the download queue.
 * - `new Archive()` (also `Torrent.Archive`) is a draft: `writeFile()` and `mkdir()` build it,
 *   `client.seed(draft)` publishes it. Seeding seals the draft: it then has an `infoHash` and a
 *   `url`, reads come from the seeding swarm, writes fail with EROFS, and `close()` stops seeding.
 *
 * Paths are '/'-separated and relative to the archive root ('/a/b' and 'a/b' are the same file);
 * errors are `TrackerlessError`s with node:fs codes (ENOENT, ENOTDIR, EISDIR) or ECLOSED after
 * `close()`. Events ('progress', 'done', 'peer', 'error') are listed in {@link ArchiveEvents}.
 */
export class Archive extends SelectionControl {
  /** A draft's files, kept after sealing so that it can be seeded by other clients too. */
  readonly #draft: DraftContents | null
  /** The torrent, once there is one (lookup, or the draft seeded). */
  #torrent: TorrentContents | null = null
  /** What reads see: the torrent once there is one, else the draft. */
  #contents: ArchiveContents
  readonly #closers: Array<() => Promise<void>> = []
  readonly #unlisten: Array<() => void> = []
  readonly #onClose: Array<() => void> = []
  #link: string | null = null
  #closed = false
  #doneEmitted = false

  /** A new, empty draft archive to write files into and seed. */
  constructor ()
  /** @internal The client's form (lookup): a swarm whose metadata and storage are ready. */
  constructor (backing: ArchiveBacking)
  constructor (backing?: ArchiveBacking) {
    super()
    this.#draft = backing === undefined ? new DraftContents() : null
    if (backing === undefined) {
      this.#contents = this.#draft!
      return
    }
    this.#contents = this.#bind(backing)
    // The swarm's own 'done' fired before this archive existed: say it again to whoever listens now.
    if (backing.swarm.isSeed()) setImmediate(() => this.#emitDone())
  }

  /** The torrent's infohash, 40 hex digits; '' for a draft not seeded yet. */
  get infoHash (): string {
    return this.#contents.infoHash
  }

  /** A magnet link to the archive (no peer addresses): its mutable link when it was opened by
   *  one, else the btih link of its torrent; '' for a draft not seeded yet. */
  get url (): string {
    if (this.#torrent === null) return ''
    return this.#link ?? this.#torrent.magnet
  }

  /** The torrent's name; '' for a draft not seeded yet. */
  get name (): string {
    return this.#contents.name
  }

  /** Bytes of all files. */
  get length (): number {
    return this.#contents.length
  }

  /** Addresses ("host:port") of the peers connected for this archive. */
  get peers (): string[] {
    return this.#contents.peers
  }

  /** Bytes of piece data received from peers (including any that failed verification). */
  get downloaded (): number {
    return this.#contents.downloaded
  }

  /** Bytes of piece data sent to peers. */
  get uploaded (): number {
    return this.#contents.uploaded
  }

  /** Share of pieces verified, 0 to 1; a draft is always complete. */
  get progress (): number {
    return this.#contents.progress
  }

  /**
   * Adds or replaces a file in a draft, creating its folders. EROFS on an archive from lookup() or
   * a draft already seeded; EISDIR when `path` is a folder; ENOTDIR when a parent is a file.
   */
  writeFile (path: string, data: string | Uint8Array, options?: BufferEncoding | WriteFileOptions): Promise<void>
  writeFile (path: string, data: string | Uint8Array, callback: Callback<void>): void
  writeFile (path: string, data: string | Uint8Array, options: BufferEncoding | WriteFileOptions | undefined, callback: Callback<void>): void
  writeFile (path: string, data: string | Uint8Array, options?: BufferEncoding | WriteFileOptions | Callback<void>, callback?: Callback<void>): Promise<void> | undefined {
    const [opts, cb] = split(options, callback)
    return settle(this.#run(() => {
      const draft = this.#writable('writeFile')
      const encoding = typeof opts === 'string' ? opts : opts?.encoding ?? 'utf8'
      draft.write(path, typeof data === 'string' ? Buffer.from(data, encoding) : Buffer.from(data))
    }), cb)
  }

  /** Creates a folder in a draft, and any missing parents (like `{ recursive: true }`); an existing folder is fine. */
  mkdir (path: string, options?: MakeDirectoryOptions | number | string | null): Promise<void>
  mkdir (path: string, callback: Callback<void>): void
  mkdir (path: string, options: MakeDirectoryOptions | number | string | null | undefined, callback: Callback<void>): void
  mkdir (path: string, options?: MakeDirectoryOptions | number | string | null | Callback<void>, callback?: Callback<void>): Promise<void> | undefined {
    const [, cb] = split(options, callback)
    checkPath(path)
    return settle(this.#run(() => {
      this.#writable('mkdir').tree.mkdirp(segmentsOf(path))
    }), cb)
  }

  /**
   * A file's contents: a Buffer, or a string with an `encoding`. Waits for the file's pieces,
   * which are fetched before any other.
   */
  readFile (path: string, options?: { encoding?: null, signal?: AbortSignal } | null): Promise<Buffer>
  readFile (path: string, options: BufferEncoding | { encoding: BufferEncoding, signal?: AbortSignal }): Promise<string>
  readFile (path: string, options?: ReadFileOptions | BufferEncoding | null): Promise<Buffer | string>
  readFile (path: string, callback: Callback<Buffer>): void
  readFile (path: string, options: { encoding?: null, signal?: AbortSignal } | null, callback: Callback<Buffer>): void
  readFile (path: string, options: BufferEncoding | { encoding: BufferEncoding, signal?: AbortSignal }, callback: Callback<string>): void
  readFile (path: string, options?: ReadFileOptions | BufferEncoding | null | Callback<Buffer> | Callback<string>, callback?: Callback<Buffer> | Callback<string>): Promise<Buffer | string> | undefined {
    const [opts, cb] = split(options, callback)
    const settings = typeof opts === 'string' ? { encoding: opts } : opts ?? {}
    return settle(this.#run(async () => {
      const file = this.#contents.tree.file(path, 'open')
      const bytes = await this.#source(file, path).read(0, file.length, settings.signal)
      return settings.encoding != null ? bytes.toString(settings.encoding) : bytes
    }), cb as Callback<Buffer | string> | undefined)
  }

  /** The names in a folder, sorted; Dirent objects with `withFileTypes`; everything below it with `recursive`. */
  readdir (path: string, options?: { withFileTypes?: false, recursive?: boolean }): Promise<string[]>
  readdir (path: string, options: { withFileTypes: true, recursive?: boolean }): Promise<Dirent[]>
  readdir (path: string, options?: ReaddirOptions): Promise<string[] | Dirent[]>
  readdir (path: string, callback: Callback<string[]>): void
  readdir (path: string, options: { withFileTypes?: false, recursive?: boolean }, callback: Callback<string[]>): void
  readdir (path: string, options: { withFileTypes: true, recursive?: boolean }, callback: Callback<Dirent[]>): void
  readdir (path: string, options?: ReaddirOptions | Callback<string[]> | Callback<Dirent[]>, callback?: Callback<string[]> | Callback<Dirent[]>): Promise<string[] | Dirent[]> | undefined {
    const [opts, cb] = split(options, callback)
    return settle(this.#run(() => {
      const dir = this.#contents.tree.dir(path, 'scandir')
      const names: string[] = []
      const dirents: Dirent[] = []
      const walk = (node: Node, prefix: string, parentPath: string): void => {
        if (node.type !== 'dir') return
        for (const child of [...node.children.values()].sort((a, b) => a.name < b.name ? -1 : 1)) {
          names.push(prefix + child.name)
          dirents.push(new Dirent(child, parentPath))
          if (opts?.recursive === true) walk(child, `${prefix}${child.name}/`, joinPath(parentPath, child.name))
        }
      }
      walk(dir, '', '/' + segmentsOf(path).join('/'))
      return opts?.withFileTypes === true ? dirents : names
    }), cb as Callback<string[] | Dirent[]> | undefined)
  }

  /** Size, type and the other fs.Stats fields of a file or folder (see {@link Stats} for the fixed ones). */
  stat (path: string, options?: StatOptions): Promise<Stats>
  stat (path: string, callback: Callback<Stats>): void
  stat (path: string, options: StatOptions | undefined, callback: Callback<Stats>): void
  stat (path: string, options?: StatOptions | Callback<Stats>, callback?: Callback<Stats>): Promise<Stats> | undefined {
    const [opts, cb] = split(options, callback)
    checkPath(path)
    statOptions(opts)
    return settle(this.#run(() => new Stats(this.#contents.tree.get(path, 'stat'), this.#blockSize())), cb)
  }

  /** stat(): a torrent holds no symbolic links. */
  lstat (path: string, options?: StatOptions): Promise<Stats>
  lstat (path: string, callback: Callback<Stats>): void
  lstat (path: string, options: StatOptions | undefined, callback: Callback<Stats>): void
  lstat (path: string, options?: StatOptions | Callback<Stats>, callback?: Callback<Stats>): Promise<Stats> | undefined {
    return (this.stat as (...args: unknown[]) => Promise<Stats> | undefined)(path, options, callback)
  }

  /** A read-only FileHandle-like view of a file (see file-handle.ts); a flag other than 'r' rejects with EROFS. */
  async open (path: string, flags: string | number = 'r'): Promise<FileHandle> {
    checkPath(path)
    await this.#run(() => flags === 'r' || flags === 'rs' || flags === constants.O_RDONLY ? this.#contents.tree.file(path, 'open') : this.#writable('open'))
    return new FileHandle(this as unknown as ConstructorParameters<typeof FileHandle>[0], path)
  }

  /** Whether a file or folder exists. Rejects only after close() (ECLOSED). */
  exists (path: string): Promise<boolean>
  exists (path: string, callback: Callback<boolean>): void
  exists (path: string, callback?: Callback<boolean>): Promise<boolean> | undefined {
    return settle(this.#run(() => {
      try {
        this.#contents.tree.get(path, 'access')
        return true
      } catch {
        return false
      }
    }), callback)
  }

  /**
   * Resolves when `path` exists, like fs.access. `mode` takes fs.constants: F_OK and R_OK always
   * pass for an existing entry; W_OK fails with EROFS except on a draft not seeded yet; X_OK is
   * not checked.
   */
  access (path: string, mode?: number): Promise<void>
  access (path: string, callback: Callback<void>): void
  access (path: string, mode: number, callback: Callback<void>): void
  access (path: string, mode?: number | Callback<void>, callback?: Callback<void>): Promise<void> | undefined {
    const [m, cb] = split(mode, callback)
    return settle(this.#run(() => {
      this.#contents.tree.get(path, 'access')
      if (((m ?? constants.F_OK) & constants.W_OK) !== 0) this.#writable('access')
    }), cb)
  }

  /**
   * Bytes `start` to `end` inclusive of a file, like fs.createReadStream. The pieces under the
   * reader and those just ahead of it are fetched before any other. Errors (ENOENT, EISDIR,
   * ECLOSED, EABORTED) destroy the stream with that error.
   */
  createReadStream (path: string, options?: ReadStreamOptions | BufferEncoding | null): Readable {
    checkPath(path)
    const opts = typeof options === 'string' ? { encoding: options } : options ?? {}
    const range = streamRange(opts)
    let file: FileNode | null = null
    let failure: Error | null = null
    try {
      this.#check()
      file = this.#contents.tree.file(path, 'open')
    } catch (err) {
      failure = err as Error
    }
    const length = file?.length ?? 0
    const end = Math.min(length - 1, range.end)
    const source = file === null ? emptySource : this.#source(file, path)
    const stream = new ReadAheadStream(source, range.start, end, opts.signal, opts.highWaterMark)
    if (opts.encoding != null) stream.setEncoding(opts.encoding)
    if (failure !== null) queueMicrotask(() => stream.destroy(failure))
    return stream
  }

  /**
   * Stops seeding this archive through this object; when it was the last open Archive of that
   * torrent in its client, stops the swarm and releases its storage. Pending reads then reject
   * with ECLOSED, and so does any later call. Idempotent.
   */
  close (): Promise<void>
  close (callback: Callback<void>): void
  close (callback?: Callback<void>): Promise<void> | undefined {
    return settle(this.#close(), callback)
  }

  /** @internal The files of a draft, for seeding it; null for an archive from lookup(). */
  draftFiles (): Array<{ path: string, data: Buffer }> | null {
    if (this.#draft === null) return null
    return [...this.#draft.files].map(([path, data]) => ({ path, data }))
  }

  /** @internal Seeding a draft seals it: its tree becomes the torrent's (empty folders, which a
   *  torrent cannot hold, are gone), reads come from the swarm, and close() stops seeding. */
  seededAs (backing: ArchiveBacking): void {
    if (this.#closed) {
      void backing.close()
      return
    }
    this.#contents = this.#bind(backing)
  }

  /** @internal `stop` runs when the archive closes, whatever version it is on (the update watcher). */
  onClose (stop: () => void): void {
    this.#onClose.push(stop)
  }

  /** @internal A mutable archive moves to a newer version: later reads see it, 'update' is
   *  emitted, and the old version's torrent is released. Reads already under way on the old
   *  version may fail with ECLOSED. */
  async updateTo (backing: ArchiveBacking, version: { seq: number, infoHash: string }): Promise<void> {
    if (this.#closed) {
      await backing.close()
      return
    }
    const oldClosers = this.#closers.splice(0)
    for (const unlisten of this.#unlisten.splice(0)) unlisten()
    this.#torrent = null
    this.#doneEmitted = false
    this.#contents = this.#bind(backing)
    this.emit('update', version)
    if (backing.swarm.isSeed()) this.#emitDone()
    await Promise.all(oldClosers.map((close) => close()))
  }

  /** Reads go to the backing's torrent from now on (unless already bound to one). */
  #bind (backing: ArchiveBacking): TorrentContents {
    this.#closers.push(backing.close)
    if (backing.link !== undefined) this.#link = backing.link
    if (this.#torrent !== null) return this.#torrent
    const torrent = new TorrentContents(backing.swarm)
    this.#torrent = torrent
    this.currentSwarm = backing.swarm
    const onPiece = (index: number): void => { this.emit('progress', this.progress, index) }
    const onDone = (): void => this.#emitDone()
    const onPeer = (address: string): void => { this.emit('peer', address) }
    // Storage failures reach the user only if they listen; an unheard 'error' must not crash them.
    const onError = (err: Error): void => { if (this.listenerCount('error') > 0) this.emit('error', err) }
    this.#unlisten.push(torrent.port.listen({ piece: onPiece, done: onDone, peer: onPeer, error: onError }))
    return torrent
  }

  protected override assertOpen (): void { this.#check() }
  protected override goalReopened (): void { this.#doneEmitted = false }

  #emitDone (): void {
    if (this.#doneEmitted || this.#closed) return
    this.#doneEmitted = true
    this.emit('done')
  }

  async #close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const stop of this.#onClose.splice(0)) stop()
    for (const unlisten of this.#unlisten.splice(0)) unlisten()
    await Promise.all(this.#closers.splice(0).map((close) => close()))
  }

  /** Runs `fn` as a promise: synchronous throws (ENOENT...) become rejections, and ECLOSED comes first. */
  #run<T> (fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      this.#check()
      resolve(fn())
    })
  }

  #source (file: FileNode, path: string): ReturnType<ArchiveContents['source']> {
    return this.#contents.source(file, path)
  }

  #blockSize (): number {
    return this.#contents.blockSize
  }

  #check (): void {
    if (this.#closed) throw new TrackerlessError('ECLOSED', 'the archive is closed; open it again with client.lookup()')
  }

  #writable (syscall: string): DraftContents {
    this.#check()
    if (this.#draft === null) throw new TrackerlessError('EROFS', `${syscall}: an archive from lookup() is read-only; write into a new Archive() and seed it`)
    if (this.#torrent !== null) throw new TrackerlessError('EROFS', `${syscall}: this archive is seeded and sealed; write into a new Archive() for a new version`)
    return this.#draft
  }
}

function joinPath (a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`
}
