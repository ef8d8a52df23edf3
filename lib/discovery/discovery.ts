import type { JoinableDht } from '../mutable/dht-api.js'
import type { DhtSocket } from 'bittorrent-dht'
import type { InfoHash } from '../util/ids.js'
import { PUBLIC_ROUTERS } from './dht.js'
import { DhtFamilies } from './dht-families.js'
import { LocalDiscovery } from './lsd.js'

export interface DiscoveryOptions {
  /** Our TCP listen port, which announces name. */
  port: number
  /** The port the DHT announces, if not `port` (a router's mapping); LSD, on the LAN, announces `port`. */
  announcePort?: () => number
  /** DHT bootstrap nodes ("host:port"); undefined: the public mainline routers; false: no DHT. */
  dht?: string[] | false
  /** UDP port of the DHT node (0 or undefined: any free port). */
  dhtPort?: number
  /** A bound socket for the DHT node instead of `dhtPort` (uTP's, shared). */
  dhtSocket?: DhtSocket
  /** Address the DHT binds to; default all interfaces. */
  host?: string
  /** BEP14; an object names the IPv4 interface to use (see LsdOptions.interface). */
  lsd?: boolean | { interface?: string }
  /** Where DHT nodes persist between runs. */
  stateDir?: string
  /** BEP32: an IPv6 DHT node beside the IPv4 one (see DhtFamilies); default true. */
  dht6?: boolean
}

interface Member {
  onPeer: (address: string) => void
  wantsPeers: () => boolean
}

/**
 * Where a client's peers come from, besides those the user names and those peers tell us of
 * (PEX lives with each swarm): one DHT node and one LSD socket shared by all torrents. Each source
 * hands out "host:port for infohash", and a peer is given only to the torrent it was found for.
 */
export class Discovery {
  private readonly opts: DiscoveryOptions
  private readonly members = new Map<string, Member>()
  private dhtDiscovery: DhtFamilies | null = null
  private lsd: LocalDiscovery | null = null
  private boundDhtPort = 0

  constructor (opts: DiscoveryOptions) {
    this.opts = opts
  }

  /** The bound UDP port of the DHT node; 0 when the DHT is off or not started. */
  get dhtPort (): number {
    return this.boundDhtPort
  }

  /** Our external IPv4 address as DHT nodes and peers voted (BEP42); null until they agree. */
  get externalAddress (): string | null {
    return this.dhtDiscovery?.externalAddress ?? null
  }

  /** Our external IPv6 address as the IPv6 DHT node's voters agree (BEP42); null until they do. */
  get externalAddress6 (): string | null {
    return this.dhtDiscovery?.externalAddress6 ?? null
  }

  /** A peer's `yourip` (BEP10): a vote towards the external address our node id derives from. */
  reportExternalAddress (ip: string, from: string): void {
    this.dhtDiscovery?.reportExternalAddress(ip, from)
  }

  /** The DHT node, for BEP44 get/put of mutable items; null when the DHT is off or not started. */
  get dht (): JoinableDht | null {
    return this.dhtDiscovery?.node ?? null
  }

  async start (): Promise<void> {
    const onPeer = (infoHash: string, address: string): void => this.members.get(infoHash)?.onPeer(address)
    if (this.opts.dht !== false) {
      const dht = new DhtFamilies({
        bootstrap: this.opts.dht ?? PUBLIC_ROUTERS,
        port: this.opts.dhtPort ?? 0,
        ...(this.opts.dhtSocket !== undefined ? { socket: this.opts.dhtSocket } : {}),
        peerPort: this.opts.port,
        ...(this.opts.announcePort !== undefined ? { announcePort: this.opts.announcePort } : {}),
        onPeer,
        ...(this.opts.host !== undefined ? { host: this.opts.host } : {}),
        ...(this.opts.stateDir !== undefined ? { stateDir: this.opts.stateDir } : {}),
        ...(this.opts.dht6 !== undefined ? { ipv6: this.opts.dht6 } : {})
      })
      this.dhtDiscovery = dht
      this.boundDhtPort = await dht.start()
    }
    const lsd = this.opts.lsd ?? true
    if (lsd !== false) {
      const iface = typeof lsd === 'object' ? lsd.interface : undefined
      this.lsd = new LocalDiscovery({ port: this.opts.port, onPeer, ...(iface !== undefined ? { interface: iface } : {}) })
      await this.lsd.start()
    }
  }

  /**
   * Announces a torrent we seed or download, and hands `onPeer` every peer found for it.
   * `wantsPeers` tells the DHT whether to keep looking (default: always). Resolves once the
   * first DHT announce is done (at once without a DHT).
   */
  join (infoHash: InfoHash, onPeer: (address: string) => void, wantsPeers: () => boolean = () => true): Promise<void> {
    const key = infoHash.toString('hex')
    this.members.set(key, { onPeer, wantsPeers })
    this.lsd?.add(key)
    return this.dhtDiscovery?.join(key, () => this.members.get(key)?.wantsPeers() ?? false) ?? Promise.resolve()
  }

  leave (infoHash: InfoHash): void {
    const key = infoHash.toString('hex')
    this.members.delete(key)
    this.lsd?.remove(key)
    this.dhtDiscovery?.leave(key)
  }

  /** Stops announcing and closes both sockets; the DHT's nodes are saved to `stateDir` first. */
  async close (): Promise<void> {
    this.members.clear()
    this.lsd?.close()
    this.lsd = null
    await this.dhtDiscovery?.close()
    this.dhtDiscovery = null
  }
}
