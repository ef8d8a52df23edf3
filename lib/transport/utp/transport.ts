import type dgram from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { PeerStream, Transport, TransportDialOptions } from '../types.js'
import type { UtpConnection } from './connection.js'
import { UtpSocket, type UtpSocketOptions } from './socket.js'
import { UdpPort, udpSocket, type UdpFamily } from '../udp-port.js'

export type UtpTransportOptions = UtpSocketOptions

interface Bound { utp: UtpSocket, port: UdpPort }

/**
 * uTP (BEP29) as a Transport: one UDP socket per address family, bound by listen() (or, for a
 * transport that only dials, at the first dial on a port the system picks). Each socket is a
 * UdpPort whose 'dht' channel is free for the client's DHT node, so both share the port.
 */
export class UtpTransport implements Transport {
  readonly name = 'utp' as const
  private readonly sockets = new Map<UdpFamily, Bound>()
  private onConnection: ((stream: PeerStream) => void) | undefined

  constructor (private readonly options: UtpTransportOptions = {}) {}

  /** The uTP socket of a family, for tests. */
  socket (family: UdpFamily): UtpSocket | undefined {
    return this.sockets.get(family)?.utp
  }

  /** The UDP port listen() bound for a family, which the DHT may share; undefined before. */
  udpPort (family: UdpFamily): UdpPort | undefined {
    return this.sockets.get(family)?.port
  }

  dial (host: string, port: number, options: TransportDialOptions = {}): PeerStream {
    const sock = this.socketFor(isIPv6(host) ? 'udp6' : 'udp4')
    return sock.connect(port, host, options.onData, options.timeout)
  }

  async listen (port: number, host: string | undefined, onConnection: (stream: PeerStream) => void): Promise<number> {
    this.onConnection = onConnection
    const family: UdpFamily = host !== undefined && isIPv6(host) ? 'udp6' : 'udp4'
    if (this.sockets.has(family)) throw new Error('this uTP transport already has a socket: listen before dialling')
    const bound = await UdpPort.bind(family, port, host)
    this.adopt(family, bound)
    return bound.address().port
  }

  /** Closes every connection and the sockets, the DHT's share included (close the DHT first). */
  async close (): Promise<void> {
    const closing: Array<Promise<void>> = []
    for (const { utp, port } of this.sockets.values()) {
      utp.close()
      closing.push(port.close())
    }
    this.sockets.clear()
    await Promise.all(closing)
  }

  private socketFor (family: UdpFamily): UtpSocket {
    return this.sockets.get(family)?.utp ?? this.adopt(family, new UdpPort(udpSocket(family)))
  }

  private adopt (family: UdpFamily, port: UdpPort): UtpSocket {
    const raw = port.socket
    // A burst of a window's packets must fit the kernel's queue, or loopback itself drops them.
    raw.once('listening', () => bufferSizes(raw))
    try { bufferSizes(raw) } catch { /* not bound yet: done on 'listening' */ }
    const utp = new UtpSocket(port.channel('utp')!, this.options)
    if (this.onConnection !== undefined) utp.onConnection = (conn: UtpConnection) => this.onConnection?.(conn)
    this.sockets.set(family, { utp, port })
    return utp
  }
}

function bufferSizes (raw: dgram.Socket): void {
  try {
    raw.setRecvBufferSize(4 * 1024 * 1024)
    raw.setSendBufferSize(4 * 1024 * 1024)
  } catch { /* capped by the system; the defaults still work, only slower */ }
}
