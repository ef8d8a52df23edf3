import { eitherFamily, type JoinableDht } from '../mutable/dht-api.js'
import { DhtDiscovery, type DhtDiscoveryOptions } from './dht.js'
import type { DhtGuardStats } from './dht-guard.js'
import { familiesFor, type DhtFamily } from './dht-family.js'

export interface DhtFamiliesOptions extends Omit<DhtDiscoveryOptions, 'family'> {
  /** `socket` (uTP's, shared) serves the IPv4 node alone; the IPv6 node binds its own. */
  /** BEP32: an IPv6 node beside the IPv4 one, where `host` allows (default true). */
  ipv6?: boolean
}

/**
 * A client's DHT nodes, one per address family (BEP32: the IPv4 and the IPv6 DHT are separate
 * networks, each node with its own socket and routing table), run side by side: each torrent is
 * announced and looked up on both, and BEP44 items are put to and got from both. Both nodes start
 * with one id (BEP32 recommends it); each is then rekeyed for BEP42 by its own family's external
 * address (the IPv6 rule hashes the /64, so the two ids differ). The IPv6 node
 * binds the IPv4 node's port number when free. When both families run, the IPv6 node is a
 * bonus: a machine without IPv6 runs the IPv4 node alone, with no error.
 */
export class DhtFamilies {
  private readonly opts: DhtFamiliesOptions
  private readonly running = new Map<DhtFamily, { discovery: DhtDiscovery, port: number }>()

  constructor (opts: DhtFamiliesOptions) {
    this.opts = opts
  }

  /** The bound UDP port of the IPv4 node, or of the IPv6 one when it runs alone; 0 before start. */
  get port (): number {
    return (this.running.get(4) ?? this.running.get(6))?.port ?? 0
  }

  /** The bound UDP port of the node of `family`; 0 when it does not run. */
  portOf (family: DhtFamily): number {
    return this.running.get(family)?.port ?? 0
  }

  /** The running nodes as one, for BEP44 get/put; null before start() and after close(). */
  get node (): JoinableDht | null {
    const nodes = [...this.running.values()].flatMap(({ discovery }) => discovery.node ?? [])
    if (nodes.length === 0) return null
    return nodes.length === 1 ? nodes[0]! : eitherFamily(nodes)
  }

  /** What the guards refused since start, both families summed. */
  get guardStats (): DhtGuardStats {
    const sum: DhtGuardStats = { rateLimited: 0, unsolicited: 0, sameAddress: 0, badNodeId: 0 }
    for (const { discovery } of this.running.values()) {
      const stats = discovery.guardStats
      for (const key of Object.keys(sum) as Array<keyof DhtGuardStats>) sum[key] += stats[key]
    }
    return sum
  }

  /** Our external IPv4 address as the IPv4 node's voters agree (BEP42); null until they do. */
  get externalAddress (): string | null {
    return this.running.get(4)?.discovery.externalAddress ?? null
  }

  /** Our external IPv6 address as the IPv6 node's voters agree (BEP42); null until they do. */
  get externalAddress6 (): string | null {
    return this.running.get(6)?.discovery.externalAddress ?? null
  }

  /** BEP10's `yourip` (see DhtDiscovery), a vote for the node of its family. */
  reportExternalAddress (ip: string, from: string): void {
    this.running.get(ip.includes(':') ? 6 : 4)?.discovery.reportExternalAddress(ip, from)
  }

  /** Binds each family's UDP socket; resolves with `port`. */
  async start (): Promise<number> {
    const families = familiesFor(this.opts.host, this.opts.ipv6 ?? true)
    const { ipv6: _ipv6, socket, ...common } = this.opts
    if (families.includes(4)) {
      const host = this.opts.host === '::' ? undefined : this.opts.host
      await this.startOne(4, { ...common, host, ...(socket !== undefined ? { socket } : {}) })
    }
    if (families.includes(6)) {
      const host = this.opts.host ?? '::'
      const port = this.opts.port !== 0 ? this.opts.port : this.portOf(4)
      const alone = !families.includes(4)
      try {
        await this.startOne(6, { ...common, host, port })
      } catch (err) {
        if (alone) throw err
        // The port number taken by another program's udp6 socket: any other will do.
        await this.startOne(6, { ...common, host, port: 0 }).catch(() => {})
      }
    }
    const v4 = this.running.get(4)?.discovery.node
    const v6 = this.running.get(6)?.discovery.node
    if (v4 != null && v6 != null) v4.pair(v6)
    return this.port
  }

  join (infoHash: string, wantsPeers: () => boolean): Promise<void> {
    return Promise.all([...this.running.values()].map(({ discovery }) => discovery.join(infoHash, wantsPeers))).then(() => {})
  }

  leave (infoHash: string): void {
    for (const { discovery } of this.running.values()) discovery.leave(infoHash)
  }

  async close (): Promise<void> {
    const all = [...this.running.values()]
    this.running.clear()
    await Promise.all(all.map(({ discovery }) => discovery.close()))
  }

  private async startOne (family: DhtFamily, opts: DhtDiscoveryOptions): Promise<void> {
    const discovery = new DhtDiscovery({ ...opts, family, ...(this.shareId(family)) })
    const port = await discovery.start()
    this.running.set(family, { discovery, port })
  }

  private shareId (family: DhtFamily): Pick<DhtDiscoveryOptions, 'nodeId'> {
    const id = family === 6 ? this.running.get(4)?.discovery.node?.nodeId : undefined
    return id !== undefined ? { nodeId: id } : {}
  }
}
