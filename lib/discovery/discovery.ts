import type DHT from 'bittorrent-dht'
import type { DhtSocket } from 'bittorrent-dht'
import type { InfoHash } from '../util/ids.js'
import { DhtDiscovery, PUBLIC_ROUTERS } from './dht.js'
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
  private dhtDiscovery: DhtDiscovery | null = null
  private lsd: LocalDiscovery | null = null
  private boundDhtPort = 0

  constructor (opts: DiscoveryOptions) {
    this.opts = opts
  }

  /** The bound UDP port of the DHT node; 0 when the DHT is off or not started. */
  get dhtPort (): number {
    return this.boundDhtPort
  }

  /** The DHT node, for BEP44 get/put of mutable items; null when the DHT is off or not started. */
  get dht (): DHT | null {
    return this.dhtDiscovery?.node ?? null
  }

  async start (): Promise<void> {
    const onPeer = (infoHash: string, address: string): void => this.members.get(infoHash)?.onPeer(address)
    if (this.opts.dht !== false) {
      const dht = new DhtDiscovery({
        bootstrap: this.opts.dht ?? PUBLIC_ROUTERS,
        port: this.opts.dhtPort ?? 0,
        ...(this.opts.dhtSocket !== undefined ? { socket: this.opts.dhtSocket } : {}),
        peerPort: this.opts.port,
        ...(this.opts.announcePort !== undefined ? { announcePort: this.opts.announcePort } : {}),
        onPeer,
        ...(this.opts.host !== undefined ? { host: this.opts.host } : {}),
        ...(this.opts.stateDir !== undefined ? { stateDir: this.opts.stateDir } : {})
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
