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
 */
import type { PeerDialer } from '../wire/peer-socket.js'
import { dialWire } from '../wire/peer-socket.js'
import type { Transport, TransportName } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import { UtpTransport } from '../transport/utp/transport.js'
import { formatAddress } from '../discovery/address.js'
import { fail } from '../errors.js'
import type { TorrentOptions } from './options.js'

/** process.emitWarning's code when uTP is left off because the DHT holds its port. */
export const UTP_PORT_WARNING = 'TRACKERLESS_UTP_PORT'
/** Addresses whose working transport is remembered; the oldest is forgotten past it. */
const REMEMBERED = 4096

type MappedPort = { protocol: 'tcp' | 'udp', port: number }

export class ClientTransports {
  /** What the listener listens on, TCP first (it picks the port; uTP takes the same number). */
  readonly list: Transport[] = []
  private readonly byName = new Map<TransportName, Transport>()
  /** The transport to dial an address over next, when it is not the default. */
  private readonly next = new Map<string, TransportName>()

  constructor (opts: Pick<TorrentOptions, 'tcp' | 'utp' | 'dht' | 'dhtPort' | 'torrentPort'>) {
    const tcp = opts.tcp !== false
    let utp = opts.utp !== false
    if (!tcp && !utp) fail('EINVAL', 'tcp: false and utp: false leave no way to reach peers: turn one of them on (CLI: drop --no-tcp or --no-utp)')
    // The DHT and uTP cannot share one UDP socket yet: an explicit dhtPort equal to the peer port
    // keeps the DHT where the user put it, and uTP stays off rather than fail the start.
    const dhtTakesPort = opts.dht !== false && opts.dhtPort !== undefined && opts.dhtPort !== 0 && opts.dhtPort === opts.torrentPort
    if (utp && dhtTakesPort) {
      if (!tcp) fail('EINVAL', `utp needs UDP port ${opts.dhtPort!}, which dhtPort gives the DHT: give the DHT another port (CLI: --dht-port) or turn TCP back on`)
      utp = false
      process.emitWarning(`uTP is off: UDP port ${opts.dhtPort!} is the DHT's (dhtPort equals torrentPort), and the two cannot share it yet; give the DHT another port to use uTP.`, { code: UTP_PORT_WARNING })
    }
    if (tcp) this.add(new TcpTransport())
    if (utp) this.add(new UtpTransport())
  }

  /** Whether a transport is on. */
  has (name: TransportName): boolean {
    return this.byName.has(name)
  }

  /** The ports to map on the router: the peer port on each transport's protocol, and the DHT's. */
  mappings (peerPort: number, dhtPort: number): MappedPort[] {
    const ports: MappedPort[] = []
    if (this.has('tcp')) ports.push({ protocol: 'tcp', port: peerPort })
    if (this.has('utp')) ports.push({ protocol: 'udp', port: peerPort })
    if (dhtPort !== 0 && !(this.has('utp') && dhtPort === peerPort)) ports.push({ protocol: 'udp', port: dhtPort })
    return ports
  }

  /** A dialer over uTP alone, for BEP55 holepunching (both ends dial at once); none with uTP off. */
  utpOnly (): { dialUtp?: PeerDialer } {
    const utp = this.byName.get('utp')
    return utp === undefined ? {} : { dialUtp: (host, port, options) => dialWire(utp, host, port, options) }
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
