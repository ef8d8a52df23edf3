import net from 'node:net'
import type DHT from 'bittorrent-dht'
import type { DhtSocket } from 'bittorrent-dht'
import { verify, loadEd25519 } from '../util/ed25519.js'
import { formatAddress, isDialablePeer } from './address.js'
import { loadNodes, saveNodes } from './node-cache.js'
import { probeNodes } from './node-probe.js'
import type { DhtGuardStats } from './dht-guard.js'
import type { DhtIdentity } from './dht-identity.js'
import { guardedDht, type GuardedDhtOptions } from './guarded-dht.js'
import type { DhtFamily } from './dht-family.js'
import { MAX_WALKS, WalkQueue } from './walk-queue.js'

/**
 * The public mainline routers: the default bootstrap when the user names none. libtorrent's
 * (dht.libtorrent.org) heads its default list, which libtorrent's IPv6 DHT node bootstraps from
 * too; each of our nodes resolves the names in its own family.
 */
export const PUBLIC_ROUTERS = ['router.bittorrent.com:6881', 'router.utorrent.com:6881', 'dht.transmissionbt.com:6881', 'dht.libtorrent.org:25401']

export interface DhtDiscoveryOptions {
  /** "host:port" nodes to join through; may be empty when `stateDir` holds nodes from a last run. */
  bootstrap: string[]
  /** UDP port to bind (0: any free one). */
  port: number
  /** A socket bound already (uTP's, shared: udp-port.ts) to use instead of binding `port`; close() hands it back. */
  socket?: DhtSocket
  host?: string
  /** Where the routing table is saved on close (and every ten minutes) for the next start. */
  stateDir?: string
  /** Our TCP listen port, which announces name. */
  peerPort: number
  /** The port peers outside reach us at (a router's mapping), announced instead of `peerPort` when known. */
  announcePort?: () => number
  /** A peer of `infoHash` (40 hex) at `address` ("host:port"). */
  onPeer: (infoHash: string, address: string) => void
  /** Limits against hostile nodes (see guarded-dht.ts); the defaults suit the open internet. */
  guard?: GuardedDhtOptions
  /** BEP32: the IPv4 (default) or the IPv6 DHT; bootstrap nodes of the other family are skipped. */
  family?: DhtFamily
  /** The node id to start with (default random). */
  nodeId?: Buffer
  /** Announce and lookup walks in flight at once (default 16); the rest wait their turn. */
  maxWalks?: number
}

/** BEP5 peers expire after about 30 minutes on most nodes: announce twice in that time. */
const ANNOUNCE_INTERVAL = 15 * 60_000
const FIRST_RETRY = 1000
const MAX_BACKOFF = 5 * 60_000
/** How often a torrent is asked whether it still wants peers (cheap: no network unless it does). */
const POLL = 2000
const SAVE_INTERVAL = 10 * 60_000

/**
 * A wait of 75–100 % of `ms`: torrents that join together (a client seeding 1,000 archives at
 * start) would otherwise stay in step for ever and send every announce and lookup in one burst.
 */
export function jittered (ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.75 + 0.25 * random()))
}

/** The first re-announce comes this share of the interval at the earliest. */
const FIRST_SPREAD = 0.1

/**
 * The wait after a torrent's first announce: anywhere in 10–100 % of the interval. Torrents that
 * joined together then re-announce spread over the whole interval, as libtorrent's round robin
 * (one torrent every interval / torrents), rather than within its last quarter; each announces
 * once more early in its first interval, which costs a walk and keeps it in the DHT all the same.
 */
export function spread (ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (FIRST_SPREAD + (1 - FIRST_SPREAD) * random()))
}
/**
 * Closest-node tables bittorrent-dht keeps after a walk, for a put or an announce that follows
 * it at once. Our announces always walk first (a table is kept only 5 minutes, they come every
 * 15), so the library's default of 1,000 only held a dead table per torrent.
 */
const MAX_TABLES = 2 * MAX_WALKS
/** As long as bittorrent-dht waits for any answer. */
const PROBE_TIMEOUT = 2000

interface Joined {
  infoHash: Buffer
  wantsPeers: () => boolean
  nextAnnounce: number
  nextLookup: number
  backoff: number
  busy: boolean
  /** An announce has succeeded: the next ones are a jittered interval apart (not `spread`). */
  announced: boolean
  firstAnnounce: () => void
}

/**
 * One mainline DHT node for a client (BEP5): announces each joined torrent with our TCP port
 * every 15 minutes, and looks up its peers while it wants more, backing off from 1 s to 5 min,
 * and again at once when it runs dry. The routing table persists in `stateDir`.
 */
export class DhtDiscovery {
  private readonly opts: DhtDiscoveryOptions
  private readonly joined = new Map<string, Joined>()
  private dht: DHT | null = null
  private guard: { stats: DhtGuardStats } | null = null
  private identity: DhtIdentity | null = null
  private ready = false
  private pollTimer: NodeJS.Timeout | null = null
  private saveTimer: NodeJS.Timeout | null = null
  private closed = false
  private readonly probing = new AbortController()
  private readonly walks: WalkQueue

  constructor (opts: DhtDiscoveryOptions) {
    this.opts = opts
    this.walks = new WalkQueue(opts.maxWalks ?? MAX_WALKS)
  }

  /** The bittorrent-dht node (for BEP44 get/put); null before start() and after close(). */
  get node (): DHT | null {
    return this.dht
  }

  /** What the guard refused since start (all zero before). */
  get guardStats (): DhtGuardStats {
    return { ...(this.guard?.stats ?? { rateLimited: 0, unsolicited: 0, sameAddress: 0, badNodeId: 0 }) }
  }

  /** Our external IPv4 address once the votes agree (DhtIdentity); null before. */
  get externalAddress (): string | null {
    return this.identity?.externalAddress ?? null
  }

  /**
   * `ip` is our address as the peer at `from` sees it (BEP10's `yourip`): a vote towards the
   * external address our node id is derived from (BEP42).
   */
  reportExternalAddress (ip: string, from: string): void {
    this.identity?.report(ip, from)
  }

  /** Binds the UDP port and starts joining the DHT (in the background); resolves with the port. */
  async start (): Promise<number> {
    const family = this.opts.family ?? 4
    const cached = this.opts.stateDir !== undefined ? await loadNodes(this.opts.stateDir, family) : []
    // Loaded here, not with the library: a client without the DHT never carries them.
    const [{ default: DhtNode }] = await Promise.all([import('bittorrent-dht'), loadEd25519()])
    // Our node stores and serves a BEP44 mutable item only if its signature holds.
    const { dht, guard, identity } = guardedDht(DhtNode, { bootstrap: this.opts.bootstrap, verify, maxTables: MAX_TABLES, ...(this.opts.nodeId !== undefined ? { nodeId: this.opts.nodeId } : {}), ...(this.opts.socket !== undefined ? { socket: this.opts.socket } : {}) }, this.opts.guard, family)
    this.dht = dht
    this.guard = guard
    this.identity = identity
    dht.on('peer', (peer, infoHash) => {
      if (!isDialablePeer(peer.host, peer.port)) return
      this.opts.onPeer(infoHash.toString('hex'), formatAddress(peer.host, peer.port))
    })
    // The first node that answers is enough to start walking towards a torrent; waiting for
    // 'ready' would also wait out the timeouts of every dead node the bootstrap walk met.
    const onReady = (): void => {
      // A bootstrap walk that met no live node is 'ready' too: wait for a node.
      if (this.ready || dht.nodes.count() === 0) return
      this.ready = true
      dht.off('node', onReady)
      this.tick()
    }
    dht.once('ready', onReady)
    dht.on('node', onReady)
    const port = await new Promise<number>((resolve, reject) => {
      // k-rpc-socket passes on only EACCES and EADDRINUSE as errors; a bind that fails otherwise
      // (EADDRNOTAVAIL, or EAFNOSUPPORT on a machine without IPv6) comes as a warning.
      const onWarning = (err: Error): void => { if ((err as NodeJS.ErrnoException).syscall === 'bind') reject(err) }
      dht.once('error', reject)
      dht.on('warning', onWarning)
      // Before the first tick: the bootstrap queries must leave from this port, not a random one.
      dht.listen(this.opts.port, this.opts.host, () => {
        dht.off('error', reject)
        dht.off('warning', onWarning)
        resolve(dht.address().port)
      })
    }).catch(async (err: Error) => {
      await this.close()
      throw err
    })
    // Cached nodes enter the routing table only once they answer (see probeNodes), and only
    // after listen(): adding nodes can make bittorrent-dht ping, which binds a random port.
    const host = this.opts.host !== undefined && net.isIP(this.opts.host) === family ? this.opts.host : undefined
    void probeNodes(cached, { timeout: PROBE_TIMEOUT, signal: this.probing.signal, family, ...(host !== undefined ? { host } : {}) }, (node) => {
      if (!this.closed) dht.addNode(node)
    })
    // A late socket error (ICMP unreachable and the like) must not crash the process.
    dht.on('error', () => {})
    dht.on('warning', () => {})
    this.pollTimer = setInterval(() => this.tick(), POLL)
    this.pollTimer.unref()
    if (this.opts.stateDir !== undefined) {
      this.saveTimer = setInterval(() => { this.save().catch(() => {}) }, SAVE_INTERVAL)
      this.saveTimer.unref()
    }
    return port
  }

  /**
   * Announces `infoHash` (40 hex) and looks for its peers while `wantsPeers()`; resolves once
   * the first announce was answered or failed.
   */
  join (infoHash: string, wantsPeers: () => boolean): Promise<void> {
    if (this.closed || this.joined.has(infoHash)) return Promise.resolve()
    return new Promise((resolve) => {
      this.joined.set(infoHash, {
        infoHash: Buffer.from(infoHash, 'hex'), wantsPeers, nextAnnounce: 0, nextLookup: 0, backoff: FIRST_RETRY, busy: false, announced: false, firstAnnounce: resolve
      })
      this.tick()
    })
  }

  leave (infoHash: string): void {
    this.joined.get(infoHash)?.firstAnnounce()
    this.joined.delete(infoHash)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.probing.abort()
    this.walks.close()
    for (const timer of [this.pollTimer, this.saveTimer]) if (timer !== null) clearInterval(timer)
    for (const j of this.joined.values()) j.firstAnnounce()
    this.joined.clear()
    const dht = this.dht
    if (dht === null) return
    await this.save().catch(() => {})
    this.dht = null
    await new Promise<void>((resolve) => dht.destroy(() => resolve()))
  }

  private async save (): Promise<void> {
    const nodes = this.dht?.nodes.toArray() ?? []
    const known = nodes.flatMap((n) => n.id !== undefined ? [{ id: n.id, host: n.host, port: n.port, ...(n.seen !== undefined ? { seen: n.seen } : {}) }] : [])
    if (this.opts.stateDir !== undefined && known.length > 0) await saveNodes(this.opts.stateDir, known, this.opts.family)
  }

  private tick (): void {
    const dht = this.dht
    if (dht === null || !this.ready || this.closed) return
    const now = Date.now()
    for (const j of this.joined.values()) {
      if (j.busy) continue
      if (now >= j.nextAnnounce) {
        j.busy = true
        this.walk(j, (node, done) => node.announce(j.infoHash, this.opts.announcePort?.() ?? this.opts.peerPort, (err) => {
          done()
          j.busy = false
          j.nextAnnounce = Date.now() + (err !== null ? jittered(j.backoff) : j.announced ? jittered(ANNOUNCE_INTERVAL) : spread(ANNOUNCE_INTERVAL))
          if (err === null) j.announced = true
          this.afterLookup(j)
          j.firstAnnounce()
        }))
      } else if (!j.wantsPeers()) {
        // Enough peers: the next time it runs dry, look at once.
        j.backoff = FIRST_RETRY
        j.nextLookup = 0
      } else if (now >= j.nextLookup) {
        j.busy = true
        this.walk(j, (node, done) => node.lookup(j.infoHash, () => {
          done()
          j.busy = false
          this.afterLookup(j)
        }))
      }
    }
  }

  /**
   * Queues a walk of `j` (WalkQueue); a torrent left or a node closed while it waited never
   * walks. `j` stays busy meanwhile, so a tick queues it once.
   */
  private walk (j: Joined, start: (node: DHT, done: () => void) => void): void {
    this.walks.run(j.wantsPeers() ? 'peers' : 'background', (done) => {
      const node = this.dht
      if (node === null || this.closed || this.joined.get(j.infoHash.toString('hex')) !== j) {
        done()
        return
      }
      start(node, done)
    })
  }

  /** An announce includes a lookup (bittorrent-dht walks to the closest nodes first). */
  private afterLookup (j: Joined): void {
    j.nextLookup = Date.now() + jittered(j.backoff)
    j.backoff = Math.min(j.backoff * 2, MAX_BACKOFF)
  }
}
