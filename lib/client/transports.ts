/**
 * The client's transports (TCP, uTP); how its swarms dial over them is the Dialler's
 * (lib/client/dialler.ts). Incoming connections are accepted on both.
 *
 * Ports: uTP listens on UDP at the TCP port's number (peers know one port per peer), and the DHT
 * shares uTP's socket (udp-port.ts) unless the user gives it a port of its own: a `dhtPort` that
 * is unset, 0, or the peer port means "the peer port". One UDP port then serves the DHT, uTP
 * and holepunching, behind one NAT mapping. With uTP off the DHT binds its own socket.
 */
import { dialWire, type PeerDialer } from '../wire/peer-socket.js'
import type { Transport, TransportName } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import { UtpTransport } from '../transport/utp/transport.js'
import { Dialler } from './dialler.js'
import { DEFAULT_ENCRYPTION } from '../transport/mse/policy.js'
import { fail } from '../errors.js'
import type { UdpChannel, UdpFamily } from '../transport/udp-port.js'
import type { TorrentOptions } from './options.js'

type MappedPort = { protocol: 'tcp' | 'udp', port: number }

export class ClientTransports {
  /** What the listener listens on, TCP first (it picks the port; uTP takes the same number). */
  readonly list: Transport[] = []
  private readonly byName = new Map<TransportName, Transport>()
  private readonly utp: UtpTransport | null
  /** Dials over them as the dialling and encryption policies say. */
  readonly dialler: Dialler
  readonly dial: PeerDialer

  constructor (opts: Pick<TorrentOptions, 'tcp' | 'utp' | 'encryption'>) {
    const tcp = opts.tcp !== false
    const utp = opts.utp !== false
    if (!tcp && !utp) fail('EINVAL', 'tcp: false and utp: false leave no way to reach peers: turn one of them on (CLI: drop --no-tcp or --no-utp)')
    this.utp = utp ? new UtpTransport() : null
    if (tcp) this.add(new TcpTransport())
    if (this.utp !== null) this.add(this.utp)
    this.dialler = new Dialler(this.list, opts.encryption ?? DEFAULT_ENCRYPTION)
    this.dial = this.dialler.dial
  }

  /**
   * PEX flagged the address as speaking uTP (libtorrent flags the peers it reached over uTP): it
   * is dialled over uTP next, since such a peer may speak nothing else; a uTP dial that fails
   * falls back to TCP as any other does.
   */
  readonly speaksUtp = (address: string): void => {
    this.dialler.prefer(address, 'utp')
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

  /** A dialer over uTP alone, for BEP55 holepunching (both ends dial at once); none with uTP off. */
  utpOnly (): { dialUtp?: PeerDialer } {
    const utp = this.utp
    return utp === null ? {} : { dialUtp: (host, port, options) => dialWire(utp, host, port, options) }
  }

  private add (transport: Transport): void {
    this.list.push(transport)
    this.byName.set(transport.name, transport)
  }
}
