import { randomBytes } from 'node:crypto'
import path from 'node:path'
import RandomAccessMemory from 'random-access-memory'
import { Archive, type ArchiveBacking } from '../archive/archive.js'
import { formatMagnet } from '../metainfo/magnet.js'
import type { Metainfo } from '../metainfo/types.js'
import { directoryStorage, memoryStorage } from '../storage/factories.js'
import type { StorageFactory } from '../storage/types.js'
import { Swarm } from '../swarm/swarm.js'
import { ConnectionSlots } from '../swarm/connection-slots.js'
import { Discovery } from '../discovery/discovery.js'
import { asPeerId, type InfoHash, type PeerId } from '../util/ids.js'
import { TrackerlessError, fail } from '../errors.js'
import { Listener } from './listener.js'
import { resolveTarget } from './resolve.js'
import { buildMetainfo, readTree, type TreeSource } from './build-torrent.js'

export interface TorrentOptions {
  /** DHT bootstrap nodes ("host:port"); false disables the DHT. */
  dht?: string[] | false
  dhtPort?: number
  torrentPort?: number
  peerId?: Uint8Array
  /** A folder to store torrents under, or a factory of random-access-storage per file path. Default: memory. */
  storage?: string | StorageFactory
  /**
   * BEP14 local discovery (default true). `{ interface: '127.0.0.1' }` keeps it on one IPv4
   * interface (multicast out of and membership on that interface only, no IPv6).
   */
  lsd?: boolean | { interface?: string }
  pex?: boolean
  host?: string
  stateDir?: string
}

/** Options of `client.lookup()`. */
export interface LookupOptions {
  /** Milliseconds to find peers and metadata before rejecting with ETIMEDOUT. Default 30000. */
  timeout?: number
  /** Keep uploading once every piece is here. Default true; false chokes every peer at completion. */
  seed?: boolean
  /**
   * 'lazy' (default) fetches only the pieces reads ask for; 'all' also fetches every other piece,
   * rarest first, in the background. Reads jump the queue either way. When the client already has
   * the torrent open, the first lookup's choice stands.
   */
  download?: 'lazy' | 'all'
  /** Aborting rejects a pending lookup with EABORTED. */
  signal?: AbortSignal
  /** Extra peers, "host:port" (as x.pe in a magnet link). */
  peers?: string[]
}

/** Options of `client.seed()`. */
export interface SeedOptions {
  /** BEP47 pad files so that every file starts a piece: versions of an archive then share pieces. */
  pad?: boolean
  /** Extra peers to connect to, "host:port". */
  peers?: string[]
}

const VERSION = '0.1.0'
/**
 * BEP20: "-tl" + four version digits + "-", then random. Not "-TL": that is Tribler's code, and
 * libtorrent (so qBittorrent, Deluge) would show us as Tribler.
 */
const PEER_ID_PREFIX = '-tl0100-'
const DEFAULT_TIMEOUT = 30_000

/** Open connections of all torrents together; each torrent has its own cap (maxPeers) too. */
const MAX_CONNECTIONS = 200

/** `announced` settles once discovery's first announce of the torrent is done. */
interface Entry { swarm: Swarm, archives: number, announced: Promise<void> }

/**
 * A client: one TCP port shared by all its torrents, and the torrents themselves.
 */
export class Torrent {
  static readonly Archive = Archive
  readonly peerId: PeerId
  private readonly opts: TorrentOptions
  private readonly storage: StorageFactory
  private readonly swarms = new Map<string, Entry>()
  private listener: Listener | null = null
  private discovery: Discovery | null = null
  private readonly slots = new ConnectionSlots(MAX_CONNECTIONS)
  private boundPort = 0
  private state: 'new' | 'started' | 'stopped' = 'new'

  constructor (opts: TorrentOptions = {}) {
    this.opts = opts
    this.peerId = asPeerId(opts.peerId ?? Buffer.concat([Buffer.from(PEER_ID_PREFIX), randomBytes(12)]))
    this.storage = typeof opts.storage === 'string' ? directoryStorage(opts.storage) : opts.storage ?? memoryStorage()
  }

  /** The bound TCP port once started. */
  get port (): number {
    return this.boundPort
  }

  /** The bound UDP port of the DHT node once started; 0 when the DHT is off. */
  get dhtPort (): number {
    return this.discovery?.dhtPort ?? 0
  }

  async start (): Promise<void> {
    if (this.state === 'started') return
    if (this.state === 'stopped') fail('ECLOSED', 'this client was stopped; create a new Torrent to start again')
    const listener = new Listener(this.peerId, (wire, hs) => {
      const entry = this.swarms.get(hs.infoHash.toString('hex'))
      if (entry === undefined) return false
      entry.swarm.accept(wire, hs)
      return true
    })
    this.boundPort = await listener.listen(this.opts.torrentPort ?? 0, this.opts.host)
    this.listener = listener
    const o = this.opts
    const discovery = new Discovery({
      port: this.boundPort,
      ...(o.dht !== undefined ? { dht: o.dht } : {}),
      ...(o.dhtPort !== undefined ? { dhtPort: o.dhtPort } : {}),
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.lsd !== undefined ? { lsd: o.lsd } : {}),
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {})
    })
    try {
      await discovery.start()
    } catch (err) {
      await discovery.close()
      await listener.close()
      this.listener = null
      throw err
    }
    this.discovery = discovery
    this.state = 'started'
  }

  /** Stops all network activity and closes all storage. Idempotent. */
  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    const swarms = [...this.swarms.values()].map((e) => e.swarm)
    this.swarms.clear()
    await Promise.all(swarms.map((s) => s.close()))
    await this.discovery?.close()
    this.discovery = null
    await this.listener?.close()
    this.listener = null
  }

  /**
   * Opens a torrent by magnet link, 40-hex (or 32 base32) infohash, .torrent bytes or .torrent
   * path, and resolves with its files once the metadata is known.
   *
   * Rejects with EINVALIDURL (unparseable link), EBADTORRENT (invalid .torrent or metadata),
   * ETIMEDOUT (no metadata within `timeout`), EABORTED (`signal`), ENOTSTARTED (before start())
   * or ECLOSED (after stop()). Each call gives its own Archive; the torrent stops when the last
   * one is closed.
   */
  async lookup (url: string | Uint8Array, opts: LookupOptions = {}): Promise<Archive> {
    this.checkStarted('lookup')
    abortIfNeeded(opts.signal)
    const target = await resolveTarget(url)
    if (target.kind === 'mutable') {
      fail('EINVALIDURL', 'mutable links (xs=urn:btpk) need the DHT, which this client does not run yet; use a btih magnet link')
    }
    const metainfo = target.kind === 'torrent' ? target.metainfo : null
    const entry = this.open(target.infoHash, metainfo, { download: opts.download ?? 'lazy', seed: opts.seed ?? true })
    for (const peer of [...target.peers, ...(opts.peers ?? [])]) entry.swarm.connect(peer)
    try {
      await waitReady(entry.swarm, opts.timeout ?? DEFAULT_TIMEOUT, opts.signal)
    } catch (err) {
      if (entry.archives === 0) await this.release(entry)
      throw err
    }
    return this.archiveOf(entry)
  }

  /**
   * Seeds a file, a folder, or a draft Archive, and resolves with its magnet link once it is
   * seeding. The same content gives the same link every time: files sorted by path, piece length
   * chosen from the total size, no date. A folder's name (a draft's: "archive") names the torrent.
   *
   * A seeded draft is sealed and stays bound to this client: it gets `infoHash` and `url`, reads
   * like an archive from lookup(), and its close() stops seeding it. A path is seeded until stop()
   * (its files are only read, so read-only files are fine). Rejects with ENOENT (no such path, or
   * nothing to seed) and EROFS (an archive from lookup() is not a draft).
   */
  async seed (source: string | Archive, opts: SeedOptions = {}): Promise<string> {
    this.checkStarted('seed')
    let tree: TreeSource
    let factory: StorageFactory
    if (typeof source === 'string') {
      tree = await readTree(source)
      // Seeding only reads: files without write permission must still open.
      factory = directoryStorage(path.dirname(path.resolve(source)), { readOnly: true })
    } else {
      const files = source.draftFiles()
      if (files === null) fail('EROFS', 'seed() takes a draft new Archive() or a path; an archive from lookup() already seeds in the client that opened it')
      if (files.length === 0) fail('ENOENT', 'the archive has no files to seed; writeFile() some first')
      const data = new Map(files.map((f) => [`archive/${f.path}`, f.data]))
      tree = { name: 'archive', multiFile: true, files: files.map((f) => ({ path: f.path, length: f.data.length })) }
      factory = (p) => new RandomAccessMemory(data.get(p) ?? Buffer.alloc(0))
    }
    const meta = await buildMetainfo(tree, factory, { padToPieces: opts.pad === true })
    const entry = this.open(meta.infoHash, meta, { download: 'all', seed: true, complete: true, storage: factory })
    for (const peer of opts.peers ?? []) entry.swarm.connect(peer)
    await waitReady(entry.swarm, DEFAULT_TIMEOUT)
    // A draft holds its own reference (its close() stops seeding); a path is seeded until stop().
    if (typeof source === 'string') entry.archives++
    else source.seededAs(this.backingOf(entry))
    return formatMagnet({ infoHash: meta.infoHash, name: meta.name, peers: [] })
  }

  private open (infoHash: InfoHash, metainfo: Metainfo | null, o: { download: 'all' | 'lazy', seed: boolean, complete?: boolean, storage?: StorageFactory }): Entry {
    const key = infoHash.toString('hex')
    const existing = this.swarms.get(key)
    if (existing !== undefined) return existing
    const swarm = new Swarm({
      infoHash,
      peerId: this.peerId,
      port: this.boundPort,
      metainfo,
      storage: o.storage ?? this.storage,
      download: o.download,
      seed: o.seed,
      complete: o.complete === true,
      slots: this.slots,
      pex: this.opts.pex !== false,
      clientName: `trackerless ${VERSION}`
    })
    // Errors reach users through their Archive; a swarm nobody listens to must not crash the process.
    swarm.on('error', () => {})
    const announced = this.discovery?.join(infoHash, (address) => swarm.connect(address), () => swarm.wantsPeers) ?? Promise.resolve()
    const entry = { swarm, archives: 0, announced }
    this.swarms.set(key, entry)
    return entry
  }

  private archiveOf (entry: Entry): Archive {
    return new Archive(this.backingOf(entry))
  }

  /** One more reference to the swarm; the swarm is released when the last one closes. */
  private backingOf (entry: Entry): ArchiveBacking {
    entry.archives++
    let closed = false
    return {
      swarm: entry.swarm,
      close: async () => {
        if (closed) return
        closed = true
        if (--entry.archives === 0) await this.release(entry)
      }
    }
  }

  private async release (entry: Entry): Promise<void> {
    const key = entry.swarm.infoHash.toString('hex')
    if (this.swarms.get(key) === entry) {
      this.swarms.delete(key)
      this.discovery?.leave(entry.swarm.infoHash)
    }
    await entry.swarm.close()
  }

  private checkStarted (what: string): void {
    if (this.state === 'new') fail('ENOTSTARTED', `${what}() needs the network: await client.start() first`)
    if (this.state === 'stopped') fail('ECLOSED', `${what}() after stop(): create a new Torrent`)
  }
}

function abortIfNeeded (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw new TrackerlessError('EABORTED', 'the lookup was aborted by its signal')
}

/** Metadata within `timeout` (checking existing data afterwards is not timed), or abort. */
function waitReady (swarm: Swarm, timeout: number, signal?: AbortSignal): Promise<void> {
  if (swarm.ready) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = swarm.metainfo !== null
      ? null
      : setTimeout(() => finish(new TrackerlessError('ETIMEDOUT', `no peer sent the metadata within ${timeout} ms; check that a peer seeds it, or raise { timeout }`)), timeout)
    const onMetadata = (): void => { if (timer !== null) clearTimeout(timer) }
    const onReady = (): void => finish()
    const onError = (err: Error): void => finish(err)
    const onAbort = (): void => finish(new TrackerlessError('EABORTED', 'the lookup was aborted by its signal'))
    function finish (err?: Error): void {
      if (timer !== null) clearTimeout(timer)
      swarm.off('metadata', onMetadata)
      swarm.off('ready', onReady)
      swarm.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    swarm.on('metadata', onMetadata)
    swarm.on('ready', onReady)
    swarm.on('error', onError)
    signal?.addEventListener('abort', onAbort)
  })
}
