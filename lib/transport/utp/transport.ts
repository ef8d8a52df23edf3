import dgram from 'node:dgram'
import { isIPv6 } from 'node:net'
import type { PeerStream, Transport, TransportDialOptions } from '../types.js'
import type { UtpConnection } from './connection.js'
import { UtpSocket, type UtpSocketOptions } from './socket.js'

export type UtpTransportOptions = UtpSocketOptions

type Family = 'udp4' | 'udp6'

/**
 * uTP (BEP29) as a Transport: one UDP socket per address family, bound by listen() (or, for a
 * transport that only dials, at the first dial on a port the system picks).
 */
export class UtpTransport implements Transport {
  readonly name = 'utp' as const
  private readonly sockets = new Map<Family, UtpSocket>()
  private onConnection: ((stream: PeerStream) => void) | undefined

  constructor (private readonly options: UtpTransportOptions = {}) {}

  /** The socket of a family, for tests and for the DHT to share. */
  socket (family: Family): UtpSocket | undefined {
    return this.sockets.get(family)
  }

  dial (host: string, port: number, options: TransportDialOptions = {}): PeerStream {
    const sock = this.socketFor(isIPv6(host) ? 'udp6' : 'udp4')
    return sock.connect(port, host, options.onData, options.timeout)
  }

  async listen (port: number, host: string | undefined, onConnection: (stream: PeerStream) => void): Promise<number> {
    this.onConnection = onConnection
    const family: Family = host !== undefined && isIPv6(host) ? 'udp6' : 'udp4'
    if (this.sockets.has(family)) throw new Error('this uTP transport already has a socket: listen before dialling')
    const raw = dgram.createSocket({ type: family, reuseAddr: false })
    await new Promise<void>((resolve, reject) => {
      raw.once('error', (err) => {
        raw.close()
        reject(err)
      })
      raw.bind(port, host, () => {
        raw.removeAllListeners('error')
        resolve()
      })
    })
    this.adopt(family, raw)
    return raw.address().port
  }

  async close (): Promise<void> {
    const closing: Array<Promise<void>> = []
    for (const sock of this.sockets.values()) {
      sock.close()
      closing.push(new Promise((resolve) => sock.socket.close(() => resolve())))
    }
    this.sockets.clear()
    await Promise.all(closing)
  }

  private socketFor (family: Family): UtpSocket {
    return this.sockets.get(family) ?? this.adopt(family, dgram.createSocket(family))
  }

  private adopt (family: Family, raw: dgram.Socket): UtpSocket {
    // A socket error (e.g. ICMP unreachable reported on send) is not fatal to the others' streams.
    raw.on('error', () => {})
    // A burst of a window's packets must fit the kernel's queue, or loopback itself drops them.
    raw.once('listening', () => bufferSizes(raw))
    try { bufferSizes(raw) } catch { /* not bound yet: done on 'listening' */ }
    const sock = new UtpSocket(raw, this.options)
    if (this.onConnection !== undefined) sock.onConnection = (conn: UtpConnection) => this.onConnection?.(conn)
    this.sockets.set(family, sock)
    return sock
  }
}

function bufferSizes (raw: dgram.Socket): void {
  try {
    raw.setRecvBufferSize(4 * 1024 * 1024)
    raw.setSendBufferSize(4 * 1024 * 1024)
  } catch { /* capped by the system; the defaults still work, only slower */ }
}
