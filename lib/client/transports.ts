/**
 * The client's transports (TCP, uTP); how its swarms dial over them is the Dialler's
 * (lib/client/dialler.ts). Incoming connections are accepted on both.
 */
import { dialWire, type PeerDialer } from '../wire/peer-socket.js'
import type { Transport, TransportName } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import { UtpTransport } from '../transport/utp/transport.js'
import { Dialler } from './dialler.js'
import { DEFAULT_ENCRYPTION } from '../transport/mse/policy.js'
import { fail } from '../errors.js'
import type { TorrentOptions } from './options.js'

/** process.emitWarning's code when uTP is left off because the DHT holds its port. */
export const UTP_PORT_WARNING = 'TRACKERLESS_UTP_PORT'

type MappedPort = { protocol: 'tcp' | 'udp', port: number }

export class ClientTransports {
  /** What the listener listens on, TCP first (it picks the port; uTP takes the same number). */
  readonly list: Transport[] = []
  private readonly byName = new Map<TransportName, Transport>()
  /** Dials over them as the dialling and encryption policies say. */
  readonly dialler: Dialler
  readonly dial: PeerDialer

  constructor (opts: Pick<TorrentOptions, 'tcp' | 'utp' | 'dht' | 'dhtPort' | 'torrentPort' | 'encryption'>) {
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
    this.dialler = new Dialler(this.list, opts.encryption ?? DEFAULT_ENCRYPTION)
    this.dial = this.dialler.dial
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

  private add (transport: Transport): void {
    this.list.push(transport)
    this.byName.set(transport.name, transport)
  }
}
