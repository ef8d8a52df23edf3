import { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
import type { Swarm } from '../swarm/swarm.js'
import { formatMagnet } from '../metainfo/magnet.js'
import { TrackerlessError } from '../errors.js'
import { FileTree, segmentsOf, type Node } from './tree.js'
import { readRange } from './reader.js'

export interface ArchiveEvents {
  progress: [number]
  done: []
  peer: [string]
  update: [{ seq: number, infoHash: string }]
  error: [Error]
}

export interface Stats {
  size: number
  mode: number
  isFile (): boolean
  isDirectory (): boolean
  isSymbolicLink (): boolean
}

export interface Dirent {
  name: string
  parentPath: string
  isFile (): boolean
  isDirectory (): boolean
  isSymbolicLink (): boolean
}

type Encoding = BufferEncoding
/** Bytes read ahead of a stream's position: enough to keep a fast swarm busy. */
const STREAM_CHUNK = 1024 * 1024

/**
 * A torrent's files, shaped like node:fs/promises. `new Archive()` is a draft to write files into
 * and seed; `client.lookup()` returns a read-only one backed by a swarm, whose reads fetch the
 * pieces they need first.
 */
export class Archive extends EventEmitter<ArchiveEvents> {
  private readonly tree = new FileTree()
  private readonly draft: Map<string, Buffer> | null
  private readonly swarm: Swarm | null
  private readonly closer: (() => Promise<void>) | null
  private closed = false

  /** `new Archive()` is a draft. The second form is the client's (lookup): a swarm whose metadata
   *  and storage are ready, and what to do on close. */
  constructor (backing?: { swarm: Swarm, close: () => Promise<void> }) {
    super()
    this.draft = backing === undefined ? new Map() : null
    this.swarm = backing?.swarm ?? null
    this.closer = backing?.close ?? null
    const swarm = this.swarm
    if (swarm === null) return
    for (const file of swarm.metainfo!.files) if (!file.pad) this.tree.addFile(file.path, file.length, file.offset)
    swarm.on('piece', () => this.emit('progress', this.progress))
    swarm.on('done', () => this.emit('done'))
    swarm.on('peer', (address) => this.emit('peer', address))
    // Storage failures reach the user only if they listen; an unheard 'error' must not crash them.
    swarm.on('error', (err) => { if (this.listenerCount('error') > 0) this.emit('error', err) })
  }

  get infoHash (): string {
    return this.swarm?.infoHash.toString('hex') ?? ''
  }

  get url (): string {
    const swarm = this.swarm
    if (swarm === null) return ''
    return formatMagnet({ infoHash: swarm.infoHash, name: swarm.metainfo!.name, peers: [] })
  }

  get name (): string {
    return this.swarm?.metainfo?.name ?? ''
  }

  /** Bytes of all files. */
  get length (): number {
    if (this.draft !== null) return [...this.draft.values()].reduce((n, b) => n + b.length, 0)
    return this.swarm!.metainfo!.files.reduce((n, f) => n + (f.pad ? 0 : f.length), 0)
  }

  /** Addresses ("host:port") of the peers connected for this archive. */
  get peers (): string[] {
    return this.swarm === null ? [] : [...this.swarm.peers].map((p) => p.address)
  }

  /** Bytes of piece data received from peers (including any that failed verification). */
  get downloaded (): number {
    return this.swarm?.downloaded ?? 0
  }

  /** Bytes of piece data sent to peers. */
  get uploaded (): number {
    return this.swarm?.uploaded ?? 0
  }

  /** Share of pieces verified, 0 to 1. */
  get progress (): number {
    return this.draft !== null ? 1 : this.swarm!.progress
  }

  async writeFile (path: string, data: string | Uint8Array): Promise<void> {
    const draft = this.writable('writeFile')
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data)
    const key = segmentsOf(path).join('/')
    this.tree.addFile(key, bytes.length, 0)
    draft.set(key, bytes)
  }

  async mkdir (path: string): Promise<void> {
    this.writable('mkdir')
    this.tree.mkdirp(segmentsOf(path))
  }

  async readFile (path: string, options?: Encoding | { encoding?: Encoding | null }): Promise<Buffer | string> {
    this.check()
    const file = this.tree.file(path, 'open')
    const bytes = await this.read(path, file.offset, file.length)
    const encoding = typeof options === 'string' ? options : options?.encoding
    return encoding != null ? bytes.toString(encoding) : bytes
  }

  async readdir (path: string, options?: { withFileTypes?: boolean, recursive?: boolean }): Promise<string[] | Dirent[]> {
    this.check()
    const dir = this.tree.dir(path, 'scandir')
    const base = '/' + segmentsOf(path).join('/')
    const out: Dirent[] = []
    const walk = (node: Node, prefix: string, parentPath: string): void => {
      if (node.type !== 'dir') return
      for (const child of [...node.children.values()].sort((a, b) => a.name < b.name ? -1 : 1)) {
        out.push(direntOf(child, prefix + child.name, parentPath))
        if (options?.recursive === true) walk(child, `${prefix}${child.name}/`, joinPath(parentPath, child.name))
      }
    }
    walk(dir, '', base)
    return options?.withFileTypes === true ? out : out.map((d) => d.name)
  }

  async stat (path: string): Promise<Stats> {
    this.check()
    return statsOf(this.tree.get(path, 'stat'))
  }

  async exists (path: string): Promise<boolean> {
    this.check()
    try {
      this.tree.get(path, 'access')
      return true
    } catch {
      return false
    }
  }

  /** Bytes `start` to `end` inclusive, like fs.createReadStream; pieces are fetched in order, ahead of the reader. */
  createReadStream (path: string, options: { start?: number, end?: number } = {}): Readable {
    this.check()
    const file = this.tree.file(path, 'open')
    const start = Math.max(0, options.start ?? 0)
    const end = Math.min(file.length - 1, options.end ?? file.length - 1)
    const read = (offset: number, length: number): Promise<Buffer> => this.read(path, file.offset + offset, length)
    async function * chunks (): AsyncGenerator<Buffer> {
      for (let pos = start; pos <= end; pos += STREAM_CHUNK) {
        yield await read(pos, Math.min(STREAM_CHUNK, end - pos + 1))
      }
    }
    return Readable.from(chunks(), { objectMode: false })
  }

  /** Stops seeding this archive and releases its storage. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.closer?.()
  }

  /** @internal The files of a draft, for seeding it. */
  draftFiles (): Array<{ path: string, data: Buffer }> {
    return [...(this.draft ?? new Map<string, Buffer>())].map(([path, data]) => ({ path, data }))
  }

  private read (path: string, offset: number, length: number): Promise<Buffer> {
    if (this.draft !== null) {
      const bytes = this.draft.get(segmentsOf(path).join('/'))!
      return Promise.resolve(bytes.subarray(offset, offset + length))
    }
    return readRange(this.swarm!, offset, length)
  }

  private check (): void {
    if (this.closed) throw new TrackerlessError('ECLOSED', 'the archive is closed; open it again with client.lookup()')
  }

  private writable (syscall: string): Map<string, Buffer> {
    this.check()
    if (this.draft === null) throw new TrackerlessError('EROFS', `${syscall}: an archive from lookup() is read-only; write into a new Archive() and seed it`)
    return this.draft
  }
}

function statsOf (node: Node): Stats {
  const dir = node.type === 'dir'
  return {
    size: dir ? 0 : node.length,
    mode: dir ? 0o40555 : 0o100444,
    isFile: () => !dir,
    isDirectory: () => dir,
    isSymbolicLink: () => false
  }
}

function direntOf (node: Node, name: string, parentPath: string): Dirent {
  const dir = node.type === 'dir'
  return { name, parentPath, isFile: () => !dir, isDirectory: () => dir, isSymbolicLink: () => false }
}

function joinPath (a: string, b: string): string {
  return a.endsWith('/') ? a + b : `${a}/${b}`
}
