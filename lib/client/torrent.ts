import RandomAccessMemory from 'random-access-memory'
import { Archive, type ArchiveBacking } from '../archive/archive.js'
import { formatMagnet, torrentMagnet } from '../metainfo/magnet.js'
import type { Metainfo } from '../metainfo/types.js'
import type { StorageFactory } from '../storage/types.js'
import { Swarm } from '../swarm/swarm.js'
import { ConnectionSlots } from '../swarm/connection-slots.js'
import { Discovery } from '../discovery/discovery.js'
import type { InfoHash, PeerId } from '../util/ids.js'
import { fail } from '../errors.js'
import { Listener } from './listener.js'
import { DEFAULT_ENCRYPTION } from '../transport/mse/policy.js'
import { resolveTarget } from './resolve.js'
import { buildMetainfo, DEFAULT_SEED_VERSION, readTree, renamed, sourceStorage, type TreeSource } from './build-torrent.js'
import { torrentFileOf } from './torrent-file.js'
import { resolveWithin, joined, deadline, saltBytes } from './mutable.js'
import type { MagnetLink } from '../metainfo/types.js'
import type { PieceSource } from '../storage/reuse.js'
import type { FileSpec } from '../swarm/selection.js'
import { Publisher } from '../mutable/publisher.js'
import { Watcher } from '../mutable/watcher.js'
import { createKeypair } from '../mutable/keys.js'
import type { TorrentOptions, LookupOptions, PublishOptions, SeedOptions } from './options.js'
import { normalizePeerId, normalizeStorage } from './normalize-options.js'
import { PortMapper, mapsPortsFor } from '../nat/port-mapper.js'
import { ResumeKeeper } from './resume.js'
import { clientStats, deleteTorrentData, describeTorrent, dialDiscovered, dialNamed, type ClientStats, type RemoveOptions, type TorrentInfo } from './torrent-list.js'
import { abortIfNeeded, waitReady } from './wait-ready.js'
import { ClientTransports } from './transports.js'
import { ClientRates, checkRateLimits, type RateLimits } from '../swarm/rate-limit.js'
import { applyFiles, initialFiles } from './select-files.js'
import { ExternalAddress } from './external-address.js'
import { SwarmIndex } from './swarm-index.js'
import { SwarmHashes } from '../swarm/swarm-hashes.js'

export type { TorrentOptions, LookupOptions, PublishOptions, SeedOptions } from './options.js'
export type { RemoveOptions, TorrentInfo, ClientStats } from './torrent-list.js'

const VERSION = '0.1.0'
const DEFAULT_TIMEOUT = 30_000
const DEFAULT_UPDATE_INTERVAL = 60_000
/** How long seed() waits for the first DHT announce before resolving anyway. */
const ANNOUNCE_WAIT = 5_000

/** `announced` settles once discovery's first announce of the torrent is done. */
interface Entry { swarm: Swarm, hashes: SwarmHashes, archives: number, announced: Promise<void>, resume: ResumeKeeper | null }

/** A client: one TCP port shared by all its torrents, and the torrents themselves. */
export class Torrent {
  static readonly Archive = Archive
  static readonly createKeypair = createKeypair
  readonly peerId: PeerId
  /** Port mapping on the router (natTraversal): its 'map' and 'fail' events, its current mappings. */
  readonly nat: PortMapper
  private readonly opts: TorrentOptions
  private readonly storage: StorageFactory
  private readonly swarms = new SwarmIndex<Entry>()
  /** Every open Archive of this client (lookups and seeded drafts), for remove(). */
  private readonly archives = new Set<Archive>()
  private listener: Listener | null = null
  private discovery: Discovery | null = null
  private readonly external = new ExternalAddress(() => this.nat.externalAddress, () => this.discovery, () => this.opts.host)
  private publisher: Publisher | null = null
  private readonly slots: ConnectionSlots
  private readonly transports: ClientTransports
  private readonly rates: ClientRates
  private boundPort = 0
  private state: 'new' | 'started' | 'stopped' = 'new'

  constructor (opts: TorrentOptions = {}) {
    this.opts = opts
    this.peerId = normalizePeerId(opts.peerId)
    this.storage = normalizeStorage(opts.storage, opts.memoryLimit)
    this.rates = new ClientRates(opts)
    this.slots = new ConnectionSlots(opts.limits)
    this.transports = new ClientTransports(opts)
    this.nat = new PortMapper(opts.natGateway !== undefined ? { gateway: opts.natGateway.host, gatewayPort: opts.natGateway.port, methods: ['nat-pmp'] } : {})
  }

  /** The bound TCP port once started. */
  get port (): number {
    return this.boundPort
  }

  /** Our public IPv4 address: as the router told it when mapping a port, else as DHT nodes and peers voted (ExternalAddress); null until known. */
  get externalAddress (): string | null {
    return this.external.address
  }

  /** The TCP port peers outside reach us at: the router's mapping of `port`, or `port`. */
  get advertisedPort (): number {
    return this.nat.externalPort('tcp', this.boundPort) ?? this.boundPort
  }

  /** The bound UDP port of the DHT node once started; 0 when the DHT is off. */
  get dhtPort (): number {
    return this.discovery?.dhtPort ?? 0
  }

  async start (): Promise<void> {
    if (this.state === 'started') return
    if (this.state === 'stopped') fail('ECLOSED', 'this client was stopped; create a new Torrent to start again')
    const listener = new Listener(this.peerId, this.swarms.route, this.slots.limits, this.transports.list, { policy: this.opts.encryption ?? DEFAULT_ENCRYPTION, infoHashes: this.swarms.infoHashes })
    this.boundPort = await listener.listen(this.opts.torrentPort ?? 0, this.opts.host)
    this.listener = listener
    const o = this.opts
    const discovery = new Discovery({
      port: this.boundPort,
      announcePort: () => this.advertisedPort,
      ...(o.dht !== undefined ? { dht: o.dht } : {}),
      ...(o.dhtPort !== undefined ? { dhtPort: o.dhtPort } : {}),
      ...this.transports.sharedDht(o, this.boundPort),
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(o.lsd !== undefined ? { lsd: o.lsd } : {}),
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}), ...(o.dht6 !== undefined ? { dht6: o.dht6 } : {})
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
    if (o.natTraversal !== false && (o.natGateway !== undefined || mapsPortsFor(o.host))) {
      void this.nat.start(this.transports.mappings(this.boundPort, this.dhtPort))
    }
  }

  /** Stops all network activity and closes all storage. Idempotent. */
  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    const entries = [...this.swarms.values()]
    const swarms = entries.map((e) => e.swarm)
    this.swarms.clear()
    this.publisher?.close()
    this.publisher = null
    await Promise.all(entries.map((e) => e.resume?.close()))
    await Promise.all(swarms.map((s) => s.close()))
    await this.nat.stop()
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
    checkRateLimits(opts)
    const target = await resolveTarget(url)
    if (target.kind === 'mutable') return await this.lookupMutable(target.link, opts)
    const metainfo = target.kind === 'torrent' ? target.metainfo : null
    return this.track(new Archive(await this.openBacking(target.infoHash, metainfo, target.peers, opts, { select: target.kind === 'infohash' ? target.select : undefined, webSeeds: target.kind === 'infohash' ? target.webSeeds : undefined, infoHashV2: target.kind === 'infohash' ? target.infoHashV2 : undefined })))
  }

  /** The open torrents: looked up, seeded, or still waiting for their metadata. */
  torrents (): TorrentInfo[] {
    return [...this.swarms.values()].map((e) => describeTorrent(e.swarm))
  }

  /** Totals over the open torrents: bytes and speeds down and up, ratio, torrents and peers. */
  stats (): ClientStats {
    return clientStats([...this.swarms.values()].map((e) => e.swarm))
  }

  /** The client-wide limits (bytes/s, 0: none); setLimits() changes them now, as the constructor's options (undefined keeps one; a bad value throws ERR_INVALID_ARG_VALUE before any change). */
  get limits (): Required<RateLimits> { return this.rates.limits }
  setLimits (limits: RateLimits): void { this.rates.set(limits) }

  /**
   * Closes every archive of a torrent (`url` as lookup() takes it, but not a btpk link) and stops
   * it; with `deleteData`, deletes the files this client downloaded for it and its resume data.
   * Deleting a torrent that is not open needs its metadata: pass the .torrent. Resolves with the
   * paths deleted (none without `deleteData`, or when none were ours).
   */
  async remove (url: string | Uint8Array, opts: RemoveOptions = {}): Promise<string[]> {
    const target = await resolveTarget(url)
    if (target.kind === 'mutable') fail('EINVALIDURL', 'remove() takes the torrent a mutable link points to now: pass archive.infoHash instead of the btpk link')
    const key = target.infoHash.toString('hex')
    const meta = this.swarms.get(key)?.swarm.metainfo ?? (target.kind === 'torrent' ? target.metainfo : null)
    await Promise.all([...this.archives].filter((a) => a.infoHash === key).map(async (a) => await a.close()))
    const left = this.swarms.get(key)
    if (left !== undefined) await this.release(left)
    if (opts.deleteData !== true) return []
    if (meta === null) fail('ENOENT', `torrent ${key} is not open here, so its file list is unknown: pass its .torrent to remove() to delete its data`)
    return await deleteTorrentData(this.storage, this.opts.stateDir, meta)
  }

  private track (archive: Archive): Archive {
    this.archives.add(archive)
    archive.onClose(() => { this.archives.delete(archive); archive.stopStats() })
    return archive
  }

  /**
   * Points a mutable link at a torrent (BEP44 item signed with the key pair, value { ih }, BEP46)
   * and resolves with the link: `magnet:?xs=urn:btpk:<64 hex>` (+ `&s=<salt hex>`). Each call
   * publishes the next version (seq one above the highest the DHT has). While the client runs it
   * puts the item again every half hour so that it does not expire. `url` is what lookup() takes:
   * a btih magnet link, an infohash, a .torrent's bytes or path.
   *
   * Rejects with ENOTSTARTED (before start(), or with `dht: false`), EINVALIDURL, EBADSIG (a key
   * pair that does not belong together) or ETIMEDOUT (no DHT node stored it).
   */
  async publish (url: string | Uint8Array, publicKey: Uint8Array, privateKey: Uint8Array, opts: PublishOptions = {}): Promise<string> {
    this.checkStarted('publish')
    const dht = this.dhtFor('publish()')
    const target = await resolveTarget(url)
    if (target.kind === 'mutable') fail('EINVALIDURL', 'publish() points a key at a torrent: give a btih magnet link, an infohash or a .torrent, not a btpk link')
    const salt = saltBytes(opts.salt)
    const key = Buffer.from(publicKey)
    this.publisher ??= new Publisher(dht)
    const publisher = this.publisher
    await deadline(joined(dht), DEFAULT_TIMEOUT, undefined, 'the DHT knows no node to publish to; check the bootstrap nodes')
    await publisher.publish({ publicKey: key, privateKey: Buffer.from(privateKey), ...(salt !== undefined ? { salt } : {}), infoHash: target.infoHash })
    return formatMagnet({ publicKey: key, ...(salt !== undefined ? { salt } : {}), peers: [] })
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
    checkRateLimits(opts)
    let tree: TreeSource
    let factory: StorageFactory
    if (typeof source === 'string') {
      const found = await readTree(source, opts.ignore)
      tree = opts.name !== undefined ? renamed(found, opts.name) : found
      factory = sourceStorage(source, tree)
    } else {
      const files = source.draftFiles()
      if (files === null) fail('EROFS', 'seed() takes a draft new Archive() or a path; an archive from lookup() already seeds in the client that opened it')
      if (files.length === 0) fail('ENOENT', 'the archive has no files to seed; writeFile() some first')
      const name = opts.name ?? 'archive'
      const data = new Map(files.map((f) => [`${name}/${f.path}`, f.data]))
      tree = { name, multiFile: true, files: files.map((f) => ({ path: f.path, length: f.data.length })) }
      factory = (p) => new RandomAccessMemory(data.get(p) ?? Buffer.alloc(0))
    }
    const meta = await buildMetainfo(tree, factory, { ...opts, version: opts.version ?? DEFAULT_SEED_VERSION })
    const entry = this.open(meta.infoHash, meta, { download: 'all', seed: true, complete: true, storage: factory, superSeed: opts.superSeed === true })
    entry.swarm.rates?.set(opts)
    for (const peer of opts.peers ?? []) dialNamed(entry.swarm, peer)
    await waitReady(entry.swarm, DEFAULT_TIMEOUT)
    // SPEC: seed() resolves once announced, so that a lookup by infohash right after finds it; a
    // DHT that reaches no node never announces, and seeding must not wait on it forever.
    await Promise.race([entry.announced, new Promise((resolve) => setTimeout(resolve, ANNOUNCE_WAIT).unref())])
    // A draft holds its own reference (its close() stops seeding); a path is seeded until stop().
    if (typeof source === 'string') entry.archives++
    else this.track(source).seededAs(this.backingOf(entry))
    return torrentMagnet(meta)
  }

  /**
   * The newest version the DHT has, opened like an infohash, then watched: a newer seq opens the
   * new torrent (copying the pieces it shares with the current one instead of downloading them)
   * and moves the archive to it.
   */
  private async lookupMutable (link: MagnetLink, opts: LookupOptions): Promise<Archive> {
    const dht = this.dhtFor('lookup() of a mutable link')
    const publicKey = link.publicKey!
    const text = formatMagnet({ publicKey, ...(link.salt !== undefined ? { salt: link.salt } : {}), peers: [] })
    const timeout = opts.timeout ?? DEFAULT_TIMEOUT
    const first = await resolveWithin(dht, publicKey, link.salt, timeout, opts.signal)
    let current = await this.openBacking(first.infoHash, null, link.peers, opts, { link: text })
    const archive = this.track(new Archive(current))
    const watcher = new Watcher({
      resolve: () => resolveWithin(dht, publicKey, link.salt, timeout),
      seq: first.seq,
      interval: opts.updateInterval ?? DEFAULT_UPDATE_INTERVAL,
      onNewer: async (next) => {
        const old = current.swarm
        const reuse: PieceSource | undefined = old.storage !== null && old.have !== null
          ? { storage: old.storage, pieceHashes: old.metainfo!.pieceHashes, have: old.have }
          : undefined
        current = await this.openBacking(next.infoHash, null, link.peers, opts, { link: text, ...(reuse !== undefined ? { reuse } : {}) })
        if (old.rates !== null) current.swarm.rates?.set(old.rates.limits)
        await archive.updateTo(current, { seq: next.seq, infoHash: next.infoHash.toString('hex') })
      },
      onError: (err) => { if (archive.listenerCount('error') > 0) archive.emit('error', err) }
    })
    archive.onClose(() => watcher.stop())
    return archive
  }

  /** Opens (or joins) the torrent, connects the named peers, waits for its metadata and storage. */
  private async openBacking (infoHash: InfoHash, metainfo: Metainfo | null, peers: string[], opts: LookupOptions, extra: { link?: string, reuse?: PieceSource, select?: number[] | undefined, webSeeds?: string[] | undefined, infoHashV2?: Buffer | undefined } = {}): Promise<ArchiveBacking> {
    const entry = this.open(infoHash, metainfo, { download: opts.download ?? 'lazy', seed: opts.seed ?? true, ...(extra.reuse !== undefined ? { reuse: extra.reuse } : {}), ...(extra.webSeeds !== undefined ? { webSeeds: extra.webSeeds } : {}), ...(extra.infoHashV2 !== undefined ? { infoHashV2: extra.infoHashV2 } : {}), ...(opts.superSeed === true ? { superSeed: true } : {}), ...initialFiles(opts.files, extra.select) })
    entry.swarm.rates?.set(opts)
    for (const peer of [...peers, ...(opts.peers ?? [])]) dialNamed(entry.swarm, peer)
    try {
      await waitReady(entry.swarm, opts.timeout ?? DEFAULT_TIMEOUT, opts.signal)
      applyFiles(entry.swarm, opts.files, extra.select)
    } catch (err) {
      if (entry.archives === 0) await this.release(entry)
      throw err
    }
    return { ...this.backingOf(entry), ...(extra.link !== undefined ? { link: extra.link } : {}) }
  }

  /**
   * The .torrent file of a torrent this client has open with its metadata (seeded, or looked up):
   * `link` is its magnet link or infohash. Null when it is not open here.
   */
  torrentFile (link: string): Buffer | null {
    return torrentFileOf(link, (key) => this.swarms.get(key)?.swarm.metainfo ?? null, `trackerless ${VERSION}`)
  }

  private dhtFor (what: string): NonNullable<Discovery['dht']> {
    const dht = this.discovery?.dht ?? null
    if (dht === null) fail('ENOTSTARTED', `${what} needs the DHT, which this client runs without (dht: false); create it with a bootstrap list`)
    return dht
  }

  private open (infoHash: InfoHash, metainfo: Metainfo | null, o: { download: 'all' | 'lazy', seed: boolean, complete?: boolean, storage?: StorageFactory, reuse?: PieceSource, files?: readonly FileSpec[], webSeeds?: string[], superSeed?: boolean, infoHashV2?: Buffer }): Entry {
    const key = infoHash.toString('hex')
    const existing = this.swarms.get(key)
    if (existing !== undefined) return existing
    const resume = this.opts.stateDir !== undefined && o.complete !== true ? new ResumeKeeper(this.opts.stateDir, key) : null
    const hashes = new SwarmHashes(infoHash, o.infoHashV2 ?? metainfo?.infoHashV2)
    const swarm = new Swarm({
      infoHash, hashes,
      peerId: this.peerId,
      port: this.boundPort,
      advertisedPort: () => this.advertisedPort,
      metainfo,
      storage: o.storage ?? this.storage,
      download: o.download,
      seed: o.seed, superSeed: o.superSeed === true,
      complete: o.complete === true,
      ...(o.reuse !== undefined ? { reuse: o.reuse } : {}),
      ...(o.files !== undefined ? { files: o.files } : {}), ...(o.webSeeds !== undefined ? { webSeeds: o.webSeeds } : {}),
      ...(resume !== null ? { scan: resume.scan } : {}),
      slots: this.slots,
      rates: this.rates.torrent(),
      dial: this.transports.dial,
      ...this.transports.utpOnly(), ...this.external.swarmHooks, speaksUtp: this.transports.speaksUtp,
      pex: this.opts.pex !== false,
      clientName: `trackerless ${VERSION}`
    })
    // Errors reach users through their Archive; a swarm nobody listens to must not crash the process.
    swarm.on('error', () => {})
    resume?.attach(swarm)
    const announced = this.discovery?.join(infoHash, (address) => dialDiscovered(swarm, address), () => swarm.wantsPeers) ?? Promise.resolve()
    const entry = { swarm, hashes, archives: 0, announced, resume }
    this.swarms.set(key, entry)
    this.swarms.track(entry, () => this.discovery)
    return entry
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
    if (this.swarms.get(key) === entry) this.swarms.remove(entry, this.discovery)
    await entry.resume?.close()
    await entry.swarm.close()
  }

  private checkStarted (what: string): void {
    if (this.state === 'new') fail('ENOTSTARTED', `${what}() needs the network: await client.start() first`)
    if (this.state === 'stopped') fail('ECLOSED', `${what}() after stop(): create a new Torrent`)
  }
}
