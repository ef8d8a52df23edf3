import dgram, { type RemoteInfo } from 'node:dgram'
import dns, { type LookupOneOptions } from 'node:dns'
import { EventEmitter } from 'node:events'
import { isIP, type AddressInfo } from 'node:net'
import { looksLikeUtp } from './utp/packet.js'

export type UdpFamily = 'udp4' | 'udp6'
/** The protocols that share a port: the DHT (KRPC, bencoded) and uTP. */
export type UdpUser = 'dht' | 'utp'

/** What a uTP socket needs of a datagram socket (node's dgram.Socket is one). */
export interface DatagramSocket {
  on: (event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void) => unknown
  off: (event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void) => unknown
  send: (buf: Uint8Array | readonly Uint8Array[], port: number, address: string) => void
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void
type Lookup = (hostname: string, options: LookupOneOptions | number, callback: LookupCallback) => void

/**
 * dgram's `lookup` option: an IP literal (every address uTP and the DHT send to) answers at once
 * when `now()` says so, else on the next tick. Node's default puts each datagram's address through
 * dns.lookup, a cost paid per datagram, which at 1400 bytes is many per second. Until the socket
 * listens the answer waits a tick as Node's would: bind() looks its address up too, and an
 * answer at once would emit 'listening' before a caller of bind() could listen for it.
 */
export function literalLookup (now: () => boolean = () => true): Lookup {
  return (hostname, options, callback) => {
    const family = isIP(hostname)
    if (family === 0) dns.lookup(hostname, typeof options === 'number' ? { family: options } : options, callback)
    else if (now()) callback(null, hostname, family)
    else process.nextTick(callback, null, hostname, family)
  }
}

/** A dgram socket of `type` that looks up no IP literal once it listens (literalLookup). */
export function udpSocket (type: UdpFamily, options: Omit<dgram.SocketOptions, 'type' | 'lookup'> = {}): dgram.Socket {
  let listening = false
  const socket = dgram.createSocket({ ...options, type, lookup: literalLookup(() => listening) })
  socket.once('listening', () => { listening = true })
  return socket
}

/** 'd': a bencoded dictionary, which every KRPC message is. */
const DICTIONARY = 0x64

/**
 * Who a datagram is for, from its first byte, as libtorrent tells them apart: a KRPC message is a
 * bencoded dictionary ('d'); a uTP header has version 1 in its low nibble and a type of at most
 * ST_SYN in its high one ('d' is type 6, so never uTP). Anything else is for no one.
 */
export function classify (msg: Uint8Array): UdpUser | null {
  if (msg.length === 0) return null
  if (msg[0] === DICTIONARY) return 'dht'
  return looksLikeUtp(msg) ? 'utp' : null
}

/**
 * One bound UDP socket shared by the DHT and uTP (one port, one NAT mapping), as libtorrent does:
 * each incoming datagram goes to the one user its first byte names (classify), or is dropped and
 * counted. Each user gets a channel, an object that looks like a dgram socket to it and sees only
 * its own datagrams; closing a channel only gives it back. The socket is its owner's (the uTP
 * transport's, closed after the DHT by the client): close() closes it, and a user still sending
 * then has its datagrams dropped rather than thrown at (ERR_SOCKET_DGRAM_NOT_RUNNING).
 */
export class UdpPort {
  /** Datagrams dropped unread: `junk` is for neither protocol, `unclaimed` for a user with no channel. */
  readonly dropped = { junk: 0, unclaimed: 0 }
  private readonly channels = new Map<UdpUser, UdpChannel>()
  private closing: Promise<void> | null = null

  /** `socket` bound (or not yet: it then binds to a port the system picks at the first send). */
  constructor (readonly socket: dgram.Socket) {
    socket.on('message', this.onMessage)
    // An error (an ICMP unreachable reported on a send) is not fatal to the socket's other users.
    socket.on('error', (err) => {
      for (const channel of this.channels.values()) if (channel.listenerCount('error') > 0) channel.emit('error', err)
    })
  }

  /** A socket of `family` bound to `port` (0: any free one) on `host` (default: every address). */
  static async bind (family: UdpFamily, port: number, host?: string): Promise<UdpPort> {
    const raw = udpSocket(family, { reuseAddr: false })
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
    return new UdpPort(raw)
  }

  get closed (): boolean {
    return this.closing !== null
  }

  address (): AddressInfo {
    return this.socket.address()
  }

  /** The channel of `user`; null once the socket is closed or when `user` already took one. */
  channel (user: UdpUser): UdpChannel | null {
    if (this.closing !== null || this.channels.has(user)) return null
    const channel = new UdpChannel(this, user)
    this.channels.set(user, channel)
    return channel
  }

  /** Sends unless the socket is closed (a late send of a closing user is dropped, not thrown). */
  send (buf: Uint8Array | readonly Uint8Array[], port: number, address: string, cb?: (err: Error | null) => void): void {
    if (this.closing !== null) return
    this.socket.send(buf, port, address, cb)
  }

  /** A channel is given back: its user's datagrams are dropped as unclaimed from now on. */
  release (channel: UdpChannel): void {
    if (this.channels.get(channel.user) === channel) this.channels.delete(channel.user)
  }

  /** Closes the socket; every channel is given back. Idempotent. */
  async close (): Promise<void> {
    this.channels.clear()
    this.closing ??= new Promise((resolve) => {
      this.socket.off('message', this.onMessage)
      this.socket.close(() => resolve())
    })
    await this.closing
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const user = classify(msg)
    if (user === null) {
      this.dropped.junk++
      return
    }
    const channel = this.channels.get(user)
    if (channel === undefined) {
      this.dropped.unclaimed++
      return
    }
    channel.emit('message', msg, rinfo)
  }
}

/**
 * One user's view of a UdpPort: the members of a dgram socket that UtpSocket and k-rpc-socket
 * (bittorrent-dht's `socket` option) use. bind() only reports the port as listening (the port
 * is bound already); close() gives the channel back, leaving the socket open, and emits 'close'.
 */
export class UdpChannel extends EventEmitter {
  private released = false

  constructor (private readonly port: UdpPort, readonly user: UdpUser) {
    super()
  }

  address (): AddressInfo {
    return this.port.address()
  }

  bind (_port?: number, _address?: string, onListening?: () => void): this {
    if (onListening !== undefined) this.once('listening', onListening)
    process.nextTick(() => this.emit('listening'))
    return this
  }

  /** dgram's two forms: (buf, port, address[, cb]) and (buf, offset, length, port, address[, cb]). */
  send (buf: Uint8Array | readonly Uint8Array[], port: number, address: string, cb?: (err: Error | null) => void): void
  send (buf: Uint8Array, offset: number, length: number, port: number, address: string, cb?: (err: Error | null) => void): void
  send (buf: Uint8Array | readonly Uint8Array[], a: number, b: string | number, c?: number | ((err: Error | null) => void), d?: string, e?: (err: Error | null) => void): void {
    if (this.released) return
    if (typeof b === 'string') {
      this.port.send(buf, a, b, typeof c === 'function' ? c : undefined)
      return
    }
    this.port.send((buf as Uint8Array).subarray(a, a + b), c as number, d!, e)
  }

  close (onClose?: () => void): void {
    if (onClose !== undefined) this.once('close', onClose)
    if (!this.released) {
      this.released = true
      this.port.release(this)
    }
    process.nextTick(() => this.emit('close'))
  }
}
