/**
 * The client's transports (TCP, uTP) and how its swarms choose between them when they dial.
 *
 * Policy: with both on, a peer is dialled over TCP first; one that did not shake hands over a
 * transport is dialled over the other one the next time the peer list retries it, and a transport
 * that shook hands is kept for that address. libtorrent has the same mechanism (a peer that fails
 * over uTP is marked and retried over TCP) but tries uTP first; we try TCP first because our uTP
 * moves a fraction of our TCP rate (bench/README.md), and a peer that only speaks uTP costs one
 * failed dial (a refused or closed TCP connection, usually at once) before it is reached.
 * Incoming connections are accepted on both.
 *
 * Ports: uTP listens on UDP at the TCP port's number (peers know one port per peer), and the DHT
 * shares uTP's socket (udp-port.ts) unless the user gives it a port of its own: a `dhtPort` that
 * is unset, 0, or the peer port means "the peer port". One UDP port then serves the DHT, uTP
 * and, later, holepunching, behind one NAT mapping. With uTP off the DHT binds its own socket.
 */
import type { PeerDialer } from '../wire/peer-socket.js'
import { dialWire } from '../wire/peer-socket.js'
import type { Transport, TransportName } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import { UtpTransport } from '../transport/utp/transport.js'
import { formatAddress } from '../discovery/address.js'
import { fail } from '../errors.js'
import type { UdpChannel, UdpFamily } from '../transport/udp-port.js'
import type { TorrentOptions } from './options.js'

/** Addresses whose working transport is remembered; the oldest is forgotten past it. */
const REMEMBERED = 4096

type MappedPort = { protocol: 'tcp' | 'udp', port: number }

export class ClientTransports {
  /** What the listener listens on, TCP first (it picks the port; uTP takes the same number). */
  readonly list: Transport[] = []
  private readonly byName = new Map<TransportName, Transport>()
  /** The transport to dial an address over next, when it is not the default. */
  private readonly next = new Map<string, TransportName>()

  private readonly utp: UtpTransport | null

  constructor (opts: Pick<TorrentOptions, 'tcp' | 'utp'>) {
    const tcp = opts.tcp !== false
    const utp = opts.utp !== false
    if (!tcp && !utp) fail('EINVAL', 'tcp: false and utp: false leave no way to reach peers: turn one of them on (CLI: drop --no-tcp or --no-utp)')
    this.utp = utp ? new UtpTransport() : null
    if (tcp) this.add(new TcpTransport())
    if (this.utp !== null) this.add(this.utp)
  }

  /** Whether a transport is on. */
  has (name: TransportName): boolean {
    return this.byName.has(name)
  }

  /**
   * The DHT's socket once the listener is bound to `peerPort`: uTP's of `family`, by the port rule
   * above; none when the DHT binds its own (no DHT, uTP off, or a port of its own).
   */
  sharedDht (opts: Pick<TorrentOptions, 'dht' | 'dhtPort'>, peerPort: number, family: UdpFamily = 'udp4'): { dhtSocket?: UdpChannel } {
    if (opts.dht === false || (opts.dhtPort !== undefined && opts.dhtPort !== 0 && opts.dhtPort !== peerPort)) return {}
    const channel = this.utp?.udpPort(family)?.channel('dht') ?? null
    return channel === null ? {} : { dhtSocket: channel }
  }

  /** The ports to map on the router: the peer port on each transport's protocol, and the DHT's. */
  mappings (peerPort: number, dhtPort: number): MappedPort[] {
    const ports: MappedPort[] = []
    if (this.has('tcp')) ports.push({ protocol: 'tcp', port: peerPort })
    if (this.has('utp')) ports.push({ protocol: 'udp', port: peerPort })
    if (dhtPort !== 0 && !(this.has('utp') && dhtPort === peerPort)) ports.push({ protocol: 'udp', port: dhtPort })
    return ports
  }

  /**
   * PEX flagged the address as speaking uTP (libtorrent flags the peers it reached over uTP): it
   * is dialled over uTP next, since such a peer may speak nothing else; a uTP dial that fails
   * falls back to TCP as any other does.
   */
  readonly speaksUtp = (address: string): void => {
    if (this.utp === null || this.list.length === 1) return
    this.remember(address, 'utp')
  }

  /** Dials over the transport the policy above picks for the address, and learns from the outcome. */
  readonly dial: PeerDialer = (host, port, options) => {
    const address = formatAddress(host, port)
    const transport = this.byName.get(this.next.get(address) ?? this.list[0]!.name) ?? this.list[0]!
    const wire = dialWire(transport, host, port, options)
    let shook = false
    wire.once('handshake', () => {
      shook = true
      this.remember(address, transport.name)
    })
    wire.once('close', () => {
      if (shook) return
      const other = this.list.find((t) => t !== transport)
      if (other !== undefined) this.remember(address, other.name)
    })
    return wire
  }

  private add (transport: Transport): void {
    this.list.push(transport)
    this.byName.set(transport.name, transport)
  }

  private remember (address: string, name: TransportName): void {
    this.next.delete(address)
    if (name === this.list[0]!.name) return
    if (this.next.size >= REMEMBERED) this.next.delete(this.next.keys().next().value!)
    this.next.set(address, name)
  }
}
