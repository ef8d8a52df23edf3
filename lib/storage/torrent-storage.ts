import { fail } from '../errors.js'
import type { Layout } from '../metainfo/types.js'
import { Bitfield } from '../util/bitfield.js'
import { FileMap, type FileSegment } from './file-map.js'
import { PieceHasher, SHA1_LENGTH, sha1Matches } from './hash.js'
import { V2Pieces } from './hash-v2.js'
import { scanPieces, type KnownPieces } from './scan.js'
import type { FileStamp } from './resume-data.js'
import { StorageError } from './storage-error.js'
export { StorageError }
import { ReadBudget, WINDOW, WindowCache, rangeOf, sharedReadBudget } from './read-cache.js'
import { OpenFiles } from './open-files.js'
import type { StorageFactory } from './types.js'

export interface TorrentStorageOptions {
  layout: Layout
  /** The torrent's name: the file of a single-file torrent, the folder of a multi-file one. */
  name: string
  multiFile: boolean
  /** Concatenated 20-byte SHA-1s; null when creating a torrent (then only hashAll is useful). */
  pieceHashes: Buffer | null
  /** A v2-only torrent's piece layers (hex root → hashes): its pieces are verified by SHA-256
   *  merkle (hash-v2.ts) instead of `pieceHashes`. */
  pieceLayers?: ReadonlyMap<string, Buffer>
  factory: StorageFactory
  /** The read cache's budget; default: the one shared by the whole process (read-cache.ts). */
  readCache?: ReadBudget
  /** A budget of this many windows for this storage alone, instead of `readCache`; 0 turns the cache off. */
  readCachePieces?: number
  /** Files kept open at once; the least recently used is closed (and reopened on demand). Default 128. */
  maxOpenFiles?: number
  /**
   * Lets the cache reuse the buffer of a window it drops. Called when the window is dropped; the
   * test it returns says when nothing reads the buffer any more (for a swarm: when every peer's
   * socket has sent what it held then); until then the buffer counts in the budget. Only windows
   * brought in by load() are reused: read() lends its view out. Without it, none are.
   */
  reuseWhen?: () => () => boolean
}

const DEFAULT_MAX_OPEN_FILES = 128
/** Read size of hashAll: large sequential reads, independent of the piece length. */
const HASH_READ_SIZE = 4 * 1024 * 1024
/** Pad files are hashed in steps of this many zeros, all from one buffer: a buffer per torrent
 *  made 16 MiB of them when 1,000 small archives were seeded at once. */
const PAD_STEP = 64 * 1024
const PAD_ZEROS = Buffer.alloc(PAD_STEP)
/** Spare buffers waiting for their read: more only happen with a storage that allocates its own. */
const MAX_SPARES = 4
const EMPTY = Buffer.alloc(0)

/**
 * A torrent's pieces over its files: piece I/O, verifying and hashing. Reads are served from a
 * cache of windows of pieces (read-cache.ts) so that the many block requests of one window cost
 * one disk read; writes take verified pieces. Files are opened and kept by OpenFiles
 * (open-files.ts), the resume scan is scan.ts, hashing hash.ts.
 */
export class TorrentStorage {
  readonly map: FileMap
  readonly pieceCount: number
  private readonly name: string
  private readonly pieceHashes: Buffer | null
  private readonly v2: V2Pieces | null
  private readonly files: OpenFiles
  /** Null when the cache is off. */
  private readonly cache: WindowCache | null
  /** Free buffers for the next allocations of their size: a fresh 1 MiB buffer per read cost an
   *  uploader more than the read (page faults, and the mark-compact collections its growth set off). */
  private readonly spares: Buffer[] = []
  private closing: Promise<void> | null = null

  constructor (opts: TorrentStorageOptions) {
    this.map = new FileMap(opts.layout)
    this.pieceCount = this.map.pieceCount
    if (opts.pieceHashes !== null && opts.pieceHashes.length !== this.pieceCount * SHA1_LENGTH) {
      fail('EBADTORRENT', `Expected ${this.pieceCount} piece hashes (${this.pieceCount * SHA1_LENGTH} bytes) but got ${opts.pieceHashes.length} bytes; the torrent is invalid.`)
    }
    this.name = opts.name
    this.pieceHashes = opts.pieceHashes
    this.v2 = opts.pieceHashes === null && opts.pieceLayers !== undefined ? new V2Pieces(opts.layout, opts.pieceLayers) : null
    this.files = new OpenFiles({
      factory: opts.factory,
      paths: opts.layout.files.map((f) => opts.multiFile ? opts.name + '/' + f.path : opts.name),
      maxOpenFiles: Math.max(1, Math.floor(opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES)),
      alloc: (size) => this.allocRead(size),
      assertOpen: () => this.assertOpen()
    })
    const pieceLength = opts.layout.pieceLength
    const budget = opts.readCachePieces !== undefined ? new ReadBudget(opts.readCachePieces * Math.min(pieceLength, WINDOW)) : opts.readCache ?? sharedReadBudget()
    this.cache = budget.bytes === 0 ? null : new WindowCache({ budget, pieceLength, read: this.readWindow, reuseWhen: opts.reuseWhen ?? null })
  }

  pieceSize (index: number): number {
    return this.map.pieceSize(index)
  }

  /**
   * `length` bytes at `begin` of piece `index`; pad bytes read as zeros. The result may be a view
   * of a cached window: do not modify it. A range across windows, or one the budget has no room
   * for, is read directly. Rejects when the data is not stored (check first).
   */
  async read (index: number, begin: number, length: number): Promise<Buffer> {
    this.assertOpen()
    this.map.checkPieceRange(index, begin, length)
    const slot = this.cache?.slot(index, begin, length, this.map.pieceSize(index)) ?? null
    if (slot === null) return this.readDirect(index, begin, length)
    slot.lent = true
    return rangeOf(await slot.loading, begin - this.cache!.windowStart(begin), length)
  }

  /** read() without the cache: exactly the bytes asked for, in a buffer of their own. */
  readDirect (index: number, begin: number, length: number): Promise<Buffer> {
    this.assertOpen()
    this.map.checkPieceRange(index, begin, length)
    return this.readRange(index * this.map.layout.pieceLength + begin, length)
  }

  /**
   * Brings the window holding [begin, begin+length) of piece `index` into the read cache for
   * cachedRange(), which may still miss if the window was dropped again before the caller looked.
   * Resolves false when the cache had no room (then use readDirect()). Unlike read(), the window's
   * buffer may be reused once dropped (see `reuseWhen`): whatever cachedRange() gave must be out
   * of use by then.
   */
  async load (index: number, begin = 0, length = 0): Promise<boolean> {
    this.assertOpen()
    this.map.checkPieceRange(index, begin, length)
    const slot = this.cache?.slot(index, begin, length, this.map.pieceSize(index)) ?? null
    if (slot === null) return false
    await slot.loading
    return true
  }

  /**
   * What read() would give, without waiting, when the window is already in the read cache; null
   * when it is not (then call load() or read()). An upload serves most blocks this way: a promise
   * per 16 KiB block cost more than the rest of serving it.
   */
  cachedRange (index: number, begin: number, length: number): Buffer | null {
    if (this.closing !== null || this.cache === null) return null
    this.map.checkPieceRange(index, begin, length)
    return this.cache.cached(index, begin, length)
  }

  /**
   * Stores a verified piece: one write per file segment, pad files skipped. `data` is the
   * caller's again once this resolves (it is not cached), so downloaders can reuse piece buffers.
   */
  async writePiece (index: number, data: Buffer): Promise<void> {
    this.assertOpen()
    const segments = this.map.pieceSegments(index)
    if (data.length !== this.map.pieceSize(index)) {
      throw new RangeError(`Piece ${index} is ${this.map.pieceSize(index)} bytes, not ${data.length}.`)
    }
    // Reads racing this write must not be answered from what was there before.
    this.cache?.invalidate(index)
    const layoutFiles = this.map.layout.files
    const writes: Promise<void>[] = []
    let at = 0
    for (const seg of segments) {
      if (!layoutFiles[seg.file]!.pad) {
        writes.push(this.writeFile(seg.file, seg.offset, data.subarray(at, at + seg.length)))
      }
      at += seg.length
    }
    await Promise.all(writes)
  }

  /** True when `data` is piece `index` as the torrent's hashes say. */
  /** False for a storage opened without SHA-1 piece hashes (creating, or a v2-only torrent). */
  hasHashes (): boolean {
    return this.pieceHashes !== null || this.v2 !== null
  }

  async verify (index: number, data: Uint8Array): Promise<boolean> {
    this.assertOpen()
    if (this.v2 !== null) return this.v2.matches(index, data)
    const hashes = this.requireHashes('verify')
    const size = this.map.pieceSize(index)
    if (size === 0 || data.length !== size) return false
    return sha1Matches(data, hashes.subarray(index * SHA1_LENGTH, (index + 1) * SHA1_LENGTH))
  }

  /**
   * Resume: the pieces already stored and verified (scan.ts). Nothing is created, truncated or
   * written.
   */
  async scan (onProgress?: (checked: number, total: number) => void, known?: KnownPieces): Promise<Bitfield> {
    this.assertOpen()
    const hashes = this.v2 !== null ? null : this.requireHashes('scan')
    return scanPieces({
      map: this.map,
      hashes,
      ...(this.v2 !== null ? { v2: this.v2 } : {}),
      stored: (segments, sizes) => this.segmentsStored(segments, sizes),
      read: (segments, length, into) => this.readSegments(segments, length, into),
      assertOpen: () => this.assertOpen()
    }, this.map.layout.files.length, onProgress, known)
  }

  /** File `file`'s size and mtime (µs) for resume data; null for a pad, a missing file, or a storage without mtimes. */
  async fileStamp (file: number): Promise<FileStamp | null> {
    if (this.map.layout.files[file]!.pad === true || await this.fileSize(file) === 0) return null
    const st = await this.files.stat(file)
    return typeof st.mtimeMs === 'number' ? { size: st.size, mtime: Math.round(st.mtimeMs * 1000) } : null
  }

  /** Concatenated SHA-1s of all pieces, for creating a torrent from files already stored. */
  /** `onProgress` hears the bytes hashed so far (pad bytes included) after each read. */
  /** `opts.onFileData` sees every file's bytes in order (for v2 merkle trees); `opts.sha1: false`
   *  skips the SHA-1 pieces (a v2-only torrent has none) and returns an empty buffer. */
  async hashAll (onProgress?: (hashedBytes: number) => void, opts: { onFileData?: (file: number, data: Buffer) => void, sha1?: boolean } = {}): Promise<Buffer> {
    this.assertOpen()
    const hasher = new PieceHasher(this.map.layout.pieceLength, opts.sha1 === false ? 0 : this.pieceCount)
    const files = this.map.layout.files
    const chunks = function * (): Generator<{ file: number, offset: number, length: number }> {
      for (let file = 0; file < files.length; file++) {
        const length = files[file]!.length
        const step = files[file]!.pad ? PAD_STEP : HASH_READ_SIZE
        for (let offset = 0; offset < length; offset += step) {
          yield { file, offset, length: Math.min(step, length - offset) }
        }
      }
    }
    const start = (c: { file: number, offset: number, length: number }): Promise<Buffer> => {
      if (files[c.file]!.pad) return Promise.resolve(PAD_ZEROS.subarray(0, c.length))
      const p = this.readFile(c.file, c.offset, c.length)
      p.catch(noop) // awaited below, one step later
      return p
    }
    let current: Promise<Buffer> | null = null
    let currentFile = -1
    let hashed = 0
    const update = (data: Buffer, file: number): void => {
      if (opts.sha1 !== false) hasher.update(data)
      if (!files[file]!.pad) opts.onFileData?.(file, data)
      hashed += data.length
      onProgress?.(hashed)
    }
    for (const c of chunks()) {
      this.assertOpen()
      const ahead = start(c)
      if (current !== null) update(await current, currentFile)
      current = ahead
      currentFile = c.file
    }
    if (current !== null) update(await current, currentFile)
    return opts.sha1 === false ? Buffer.alloc(0) : hasher.digest()
  }

  /** Creates the zero-length files (those `only` accepts), which no piece covers; existing files are left untouched. */
  async createEmptyFiles (only: (file: number) => boolean = () => true): Promise<void> {
    this.assertOpen()
    const files = this.map.layout.files
    const writes: Promise<void>[] = []
    for (let i = 0; i < files.length; i++) {
      if (files[i]!.length === 0 && !files[i]!.pad && only(i)) writes.push(this.writeFile(i, 0, EMPTY))
    }
    await Promise.all(writes)
  }

  /** Closes every file opened; later calls return the same promise and other operations reject with ECLOSED. */
  close (): Promise<void> {
    if (this.closing !== null) return this.closing
    this.cache?.clear()
    this.spares.length = 0
    this.closing = this.files.close()
    return this.closing
  }

  private assertOpen (): void {
    if (this.closing !== null) {
      fail('ECLOSED', `The storage of "${this.name}" is closed; open the torrent again to use it.`)
    }
  }

  private requireHashes (what: string): Buffer {
    if (this.pieceHashes === null) {
      throw new Error(`Cannot ${what} "${this.name}" without piece hashes; pass the torrent's pieceHashes to TorrentStorage.`)
    }
    return this.pieceHashes
  }

  /** The cache's read of a window; its spare buffer goes to the next allocation of its size. */
  private readonly readWindow = (index: number, begin: number, length: number, spare: Buffer | null): Promise<Buffer> => {
    if (spare !== null && this.spares.length < MAX_SPARES) this.spares.push(spare)
    const read = this.readRange(index * this.map.layout.pieceLength + begin, length)
    read.catch(noop) // the cache handles the failure; its readers get it too
    return read
  }

  /** The buffer for a read of `size` bytes: a spare one when there is one of that size. */
  private readonly allocRead = (size: number): Buffer => {
    const spare = this.spares.length > 0 && this.spares[this.spares.length - 1]!.length === size ? this.spares.pop() : undefined
    return spare ?? Buffer.allocUnsafe(size)
  }

  private readRange (start: number, length: number): Promise<Buffer> {
    return this.readSegments(this.map.segments(start, length), length, null)
  }

  /** Reads `segments` (covering `length` bytes) into `into`, or a new buffer when null. A range
   *  inside one stored file is read by the storage into `into` made its next allocation: only the
   *  scan passes one, before any other read (a fresh buffer per part left the scan's garbage behind). */
  private async readSegments (segments: FileSegment[], length: number, into: Buffer | null): Promise<Buffer> {
    const files = this.map.layout.files
    const only = segments.length === 1 ? segments[0]! : null
    if (only !== null && !files[only.file]!.pad) {
      if (into !== null) this.spares.push(into)
      return this.readFile(only.file, only.offset, only.length)
    }
    const out = into ?? this.allocRead(length)
    const reads: Promise<void>[] = []
    let at = 0
    for (const seg of segments) {
      if (files[seg.file]!.pad) {
        out.fill(0, at, at + seg.length)
      } else {
        const to = at
        reads.push(this.readFile(seg.file, seg.offset, seg.length).then((buf) => { buf.copy(out, to) }))
      }
      at += seg.length
    }
    await Promise.all(reads)
    return out
  }

  /** True when every stored segment lies within its file's current size. */
  private async segmentsStored (segments: FileSegment[], sizes: Float64Array): Promise<boolean> {
    const files = this.map.layout.files
    for (const seg of segments) {
      if (files[seg.file]!.pad) continue
      if (sizes[seg.file]! < 0) sizes[seg.file] = await this.fileSize(seg.file)
      if (sizes[seg.file]! < seg.offset + seg.length) return false
    }
    return true
  }

  private readFile (file: number, offset: number, length: number): Promise<Buffer> {
    return this.files.read(file, offset, length)
  }

  private writeFile (file: number, offset: number, data: Buffer): Promise<void> {
    return this.files.write(file, offset, data)
  }

  private fileSize (file: number): Promise<number> {
    return this.files.size(file)
  }
}

function noop (): void {}
