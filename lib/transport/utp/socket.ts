import type { RemoteInfo } from 'node:dgram'
import type { DatagramSocket } from '../udp-port.js'
import { decode, looksLikeUtp, ST_SYN } from './packet.js'
import { DEFAULT_CONNECTION_OPTIONS, UtpConnection, type UtpConnectionOptions, type UtpLink } from './connection.js'

export interface UtpSocketOptions extends Partial<UtpConnectionOptions> {
  /** Connections (all states) this socket holds at most; SYNs beyond it are ignored. */
  maxConnections?: number
  /** Incoming connections that have not yet sent data; SYNs beyond it are ignored. */
  maxHalfOpen?: number
  /** Tests only: return true to drop an outgoing datagram (simulates loss deterministically). */
  drop?: (buf: Buffer) => boolean
}

const TICK_MS = 50

/**
 * The uTP side of one UDP socket: sends and receives every connection's packets and matches each
 * incoming one to its connection by address, port and connection id. The socket may be a
 * UdpPort's channel (udp-port.ts), which hands it only uTP datagrams of a port shared with the DHT.
 */
export class UtpSocket implements UtpLink {
  private readonly conns = new Map<string, UtpConnection>()
  private halfOpen = 0
  private timer: NodeJS.Timeout | undefined
  private readonly connOpts: UtpConnectionOptions
  private readonly maxConnections: number
  private readonly maxHalfOpen: number
  /** Counts of what was ignored, for tests and diagnostics. */
  readonly ignored = { syn: 0, unknown: 0 }
  onConnection: ((conn: UtpConnection) => void) | undefined

  constructor (readonly socket: DatagramSocket, private readonly options: UtpSocketOptions = {}) {
    this.connOpts = { ...DEFAULT_CONNECTION_OPTIONS }
    for (const key of Object.keys(DEFAULT_CONNECTION_OPTIONS) as Array<keyof UtpConnectionOptions>) {
      const v = options[key]
      if (v !== undefined) this.connOpts[key] = v
    }
    this.maxConnections = options.maxConnections ?? 1024
    this.maxHalfOpen = options.maxHalfOpen ?? 64
    socket.on('message', this.onMessage)
  }

  get size (): number { return this.conns.size }
  get halfOpenCount (): number { return this.halfOpen }

  connect (port: number, address: string, onData?: (chunk: Buffer) => void, connectTimeout?: number): UtpConnection {
    let recvId = 0
    // The initiator receives on its id and sends on id + 1 (BEP29); both must be free here.
    for (let i = 0; i < 64; i++) {
      recvId = (Math.random() * 0xffff) & 0xffff
      if (!this.conns.has(key(address, port, recvId))) break
    }
    const opts = connectTimeout === undefined ? this.connOpts : { ...this.connOpts, connectTimeout }
    const conn = new UtpConnection(this, address, port, recvId, (recvId + 1) & 0xffff, opts, onData)
    this.add(conn)
    return conn
  }

  send (parts: Uint8Array[], port: number, address: string): void {
    if (this.options.drop !== undefined && this.options.drop(Buffer.concat(parts))) return
    this.socket.send(parts, port, address)
  }

  established (conn: UtpConnection): void {
    if (conn.initiatedByPeer) {
      this.halfOpen--
      this.onConnection?.(conn)
    }
  }

  removed (conn: UtpConnection): void {
    const k = key(conn.remoteAddress, conn.remotePort, conn.recvId)
    if (this.conns.get(k) !== conn) return
    this.conns.delete(k)
    if (conn.initiatedByPeer && !conn.wasEstablished) this.halfOpen--
    if (this.conns.size === 0) this.stopTimer()
  }

  /** Destroys every connection; the dgram socket stays with its owner. */
  close (): void {
    for (const conn of [...this.conns.values()]) conn.destroy()
    this.socket.off('message', this.onMessage)
    this.stopTimer()
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (!looksLikeUtp(msg)) return
    const p = decode(msg)
    if (p === null) return
    if (p.type === ST_SYN) {
      const recvId = (p.connectionId + 1) & 0xffff
      const existing = this.conns.get(key(rinfo.address, rinfo.port, recvId))
      if (existing !== undefined) {
        existing.receive(p)
        return
      }
      if (this.onConnection === undefined || this.conns.size >= this.maxConnections || this.halfOpen >= this.maxHalfOpen) {
        this.ignored.syn++
        return
      }
      const conn = new UtpConnection(this, rinfo.address, rinfo.port, recvId, p.connectionId, this.connOpts, undefined, p)
      this.halfOpen++
      this.add(conn)
      return
    }
    const conn = this.conns.get(key(rinfo.address, rinfo.port, p.connectionId))
    if (conn === undefined) {
      this.ignored.unknown++
      return
    }
    conn.receive(p)
  }

  private add (conn: UtpConnection): void {
    this.conns.set(key(conn.remoteAddress, conn.remotePort, conn.recvId), conn)
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        const now = performance.now()
        for (const c of [...this.conns.values()]) c.tick(now)
      }, TICK_MS)
      this.timer.unref()
    }
  }

  private stopTimer (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}

function key (address: string, port: number, id: number): string {
  return `${id}/${port}/${address}`
}
