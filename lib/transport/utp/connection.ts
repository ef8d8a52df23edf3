import { EventEmitter } from 'node:events'
import { TrackerlessError } from '../../errors.js'
import type { PeerStream } from '../types.js'
import { Ledbat } from './ledbat.js'
import { EXT_PADDING, isLoopback, padding } from './mtu-probe.js'
import { encode, HEADER_SIZE, seqAdd, seqDiff, ST_DATA, ST_FIN, ST_RESET, ST_STATE, ST_SYN, writeTimes, type Packet, type PacketType } from './packet.js'
import { ReceiveBuffer } from './receive.js'
import { SendWindow, type Outgoing } from './send-window.js'

export interface UtpConnectionOptions {
  /** Largest datagram we send; 1400 fits a 1500-byte MTU under IPv6 and a tunnel header. */
  packetSize: number
  /** Largest datagram we probe for toward a loopback address (mtu-probe.ts); 0 or at most
   *  packetSize: no probe. 65488 is the loopback MTU of Linux (64 KiB) less the IPv6 and UDP
   *  headers, so one size serves both families. */
  loopbackPacketSize: number
  /** Bytes we accept ahead of a gap (our advertised window). */
  receiveWindow: number
  connectTimeout: number
  /** ms without any packet from the peer before the connection is given up. */
  idleTimeout: number
  /** Consecutive retransmission timeouts before the connection is given up. */
  maxRetransmits: number
}

export const DEFAULT_CONNECTION_OPTIONS: UtpConnectionOptions = {
  packetSize: 1400,
  loopbackPacketSize: 65_488,
  receiveWindow: 1024 * 1024,
  connectTimeout: 10_000,
  idleTimeout: 60_000,
  maxRetransmits: 6
}

/** What a connection needs of the socket it lives on. */
export interface UtpLink {
  /** One datagram, given as its parts in order (header, then payload chunks). */
  send (parts: Uint8Array[], port: number, address: string): void
  /** The connection reached 'connected' (an accepted one is handed to the listener then). */
  established (conn: UtpConnection): void
  removed (conn: UtpConnection): void
}

type State = 'syn-sent' | 'syn-recv' | 'connected' | 'closed'
/** Where the path-MTU probe stands: not for this peer, waiting for data to flow, or decided. */
type Probe = 'no' | 'wait' | 'sent' | 'done'

const KEEPALIVE_MS = 29_000
const EMPTY = new Uint8Array(0)

function nowUs (): number {
  return Math.floor(performance.now() * 1000) >>> 0
}

/** One uTP connection, usable wherever a TCP socket is (PeerStream), e.g. `new Wire(conn)`. */
export class UtpConnection extends EventEmitter implements PeerStream {
  state: State
  /** Writes of one turn of the event loop leave as full packets; this bounds what waits. */
  readonly writableHighWaterMark = 256 * 1024
  writableLength = 0
  readonly createdAt = performance.now()
  /** Why the connection ended, once it has. */
  closeReason: string | undefined
  /** An incoming connection (we answered its SYN). */
  readonly initiatedByPeer: boolean
  wasEstablished = false
  /** Largest payload we send now: from packetSize, or loopbackPacketSize once a probe came back. */
  maxPayload: number
  private readonly sw: SendWindow
  private readonly queue: Uint8Array[] = []
  private corked = 0
  private flushScheduled = false
  private needDrain = false
  private readonly recv: ReceiveBuffer
  private readonly cc: Ledbat
  private peerWindow: number
  private replyMicro = 0
  private lastHeard = performance.now()
  private lastSent = 0
  private ackScheduled = false
  private probe: Probe
  private firstData = -1

  constructor (
    private readonly link: UtpLink,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly recvId: number,
    readonly sendId: number,
    private readonly opts: UtpConnectionOptions,
    private readonly onData: ((chunk: Buffer) => void) | undefined,
    syn?: Packet
  ) {
    super()
    this.maxPayload = opts.packetSize - HEADER_SIZE
    this.cc = new Ledbat(this.maxPayload, 8 * opts.receiveWindow, performance.now())
    this.sw = new SendWindow(this.cc, { resend: (o, now) => this.resend(o, now), probeAcked: (o) => this.probeAcked(o) }, (Math.random() * 0x10000) & 0xffff)
    this.peerWindow = opts.receiveWindow
    this.recv = new ReceiveBuffer(opts.receiveWindow, Math.ceil(opts.receiveWindow / this.maxPayload) + 1)
    this.probe = opts.loopbackPacketSize > opts.packetSize && isLoopback(remoteAddress) ? 'wait' : 'no'
    this.initiatedByPeer = syn !== undefined
    if (syn === undefined) {
      this.state = 'syn-sent'
      this.sendPacket(ST_SYN, [], 0, this.recvId)
    } else {
      this.state = 'syn-recv'
      this.recv.ack = syn.seq
      this.replyMicro = (nowUs() - syn.timestamp) >>> 0
      this.sendAck()
    }
  }

  get destroyed (): boolean {
    return this.state === 'closed'
  }

  write (chunk: Uint8Array): boolean {
    if (this.state === 'closed') return false
    if (chunk.length > 0) {
      this.queue.push(chunk)
      this.writableLength += chunk.length
    }
    // Sent at the end of this turn, so that a writer's small writes leave as full packets.
    if (this.corked === 0 && !this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(() => {
        this.flushScheduled = false
        if (this.corked === 0) this.flush()
      })
    }
    const ok = this.writableLength < this.writableHighWaterMark
    if (!ok) this.needDrain = true
    return ok
  }

  cork (): void { this.corked++ }

  uncork (): void {
    if (this.corked > 0 && --this.corked === 0) this.flush()
  }

  setNoDelay (): void {}

  destroy (err?: Error): void {
    if (this.state === 'closed') return
    if (this.state === 'connected') {
      this.flush()
      this.sendPacket(ST_FIN, [], 0)
    }
    this.end(err)
  }

  resetAndDestroy (): void {
    if (this.state === 'closed') return
    this.sendRaw(ST_RESET, this.sw.seq)
    this.end(undefined, 'reset by us')
  }

  /** A packet the socket matched to this connection by address, port and connection id. */
  receive (p: Packet): void {
    if (this.state === 'closed') return
    const now = performance.now()
    if (p.type === ST_RESET) {
      this.end(new TrackerlessError('ECLOSED', `the uTP peer ${this.remoteAddress}:${this.remotePort} reset the connection`), 'reset by the peer')
      return
    }
    if (p.type === ST_SYN) {
      if (this.state === 'syn-recv') this.sendAck() // our ack was lost: the peer dials again
      return
    }
    if (this.state === 'syn-sent') {
      if (p.type !== ST_STATE || p.ack !== this.sw.lastAckedPlusOne()) return
      this.recv.ack = seqAdd(p.seq, -1)
      this.state = 'connected'
      this.wasEstablished = true
      this.link.established(this)
      this.emit('connect')
    }
    this.lastHeard = now
    this.replyMicro = (nowUs() - p.timestamp) >>> 0
    this.peerWindow = p.window
    this.sw.onAck(p, now)
    if (this.destroyed) return
    if (p.type === ST_DATA || p.type === ST_FIN) {
      if (this.state === 'syn-recv' && p.seq === seqAdd(this.recv.ack, 1)) {
        // Accepted only once the peer sends in order: a SYN alone costs us no listener work.
        this.state = 'connected'
        this.wasEstablished = true
        this.link.established(this)
        if (this.destroyed) return
      }
      this.recv.push(p.seq, p.payload, p.type === ST_FIN, (chunk) => this.deliver(chunk))
      if (this.destroyed) return
      this.scheduleAck()
      if (this.recv.complete) {
        this.sendAck()
        this.destroy()
        return
      }
    }
    this.flush()
  }

  /** Called by the socket's timer: retransmission, connect and idle timeouts, keep-alive. */
  tick (now: number): void {
    if (this.state === 'closed') return
    if (this.state !== 'connected' && now - this.createdAt > this.opts.connectTimeout) {
      this.end(new TrackerlessError('ETIMEDOUT', `uTP connection to ${this.remoteAddress}:${this.remotePort} not established within ${this.opts.connectTimeout} ms`), 'connect timeout')
      return
    }
    if (now - this.lastHeard > this.opts.idleTimeout) {
      this.end(new TrackerlessError('ETIMEDOUT', `no uTP packet from ${this.remoteAddress}:${this.remotePort} for ${this.opts.idleTimeout} ms`), 'idle timeout')
      return
    }
    if (this.sw.size > 0 && now >= this.sw.rtoDeadline) {
      if (++this.sw.timeouts > this.opts.maxRetransmits) {
        this.end(new TrackerlessError('ETIMEDOUT', `the uTP peer ${this.remoteAddress}:${this.remotePort} stopped acknowledging data`), 'retransmission timeout')
        return
      }
      this.sw.onTimeout(now)
    } else if (this.state === 'connected' && now - this.lastSent > KEEPALIVE_MS) {
      this.sendAck()
    }
  }

  private deliver (chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.onData !== undefined) this.onData(buf)
    else this.emit('data', buf)
  }

  private resend (o: Outgoing, now: number): void {
    if (o.probe) {
      // Lost at its size: the rest of the connection keeps the default, and the packet, which
      // carries no data, goes again as a bare header.
      o.probe = false
      o.header[1] = 0
      o.parts = [o.header]
      this.probe = 'done'
    }
    o.transmissions++
    o.sentAt = now
    writeTimes(o.header, nowUs(), this.replyMicro, this.recv.window, this.recv.ack)
    this.transmit(o.parts)
  }

  private probeAcked (o: Outgoing): void {
    this.probe = 'done'
    this.maxPayload = Math.max(this.maxPayload, o.parts.reduce((n, p) => n + p.length, 0) - HEADER_SIZE)
    this.cc.setMss(this.maxPayload)
  }

  private flush (): void {
    if (this.state !== 'connected') return
    if (this.probe === 'wait' && this.firstData !== -1 && seqDiff(this.sw.lastAcked, this.firstData) >= 0 && this.writableLength > this.maxPayload) {
      // Data flows and more waits than one packet holds: the packets behind the probe tell soon
      // (by their selective acks) whether it was lost.
      this.probe = 'sent'
      this.sendPacket(ST_DATA, [padding(this.opts.loopbackPacketSize)], 0, this.sendId, true)
    }
    const window = Math.min(this.cc.cwnd, this.peerWindow)
    while (this.writableLength > 0) {
      const size = Math.min(this.maxPayload, this.writableLength)
      if (this.sw.inflight > 0 && this.sw.inflight + size > window) break
      const parts: Uint8Array[] = []
      let at = 0
      while (at < size) {
        const head = this.queue[0]!
        const take = Math.min(head.length, size - at)
        if (take === head.length) {
          parts.push(head)
          this.queue.shift()
        } else {
          parts.push(head.subarray(0, take))
          this.queue[0] = head.subarray(take)
        }
        at += take
      }
      this.writableLength -= size
      if (this.firstData === -1) this.firstData = this.sw.seq
      this.sendPacket(ST_DATA, parts, size)
    }
    if (this.needDrain && this.writableLength < this.writableHighWaterMark / 2) {
      this.needDrain = false
      this.emit('drain')
    }
  }

  /** Sends a packet that takes a sequence number, and keeps it until the peer acks it. */
  private sendPacket (type: PacketType, payload: Uint8Array[], size: number, connectionId = this.sendId, probe = false): void {
    const header = this.header(type, this.sw.seq, connectionId)
    if (probe) header[1] = EXT_PADDING
    const parts = [header, ...payload]
    this.transmit(parts)
    this.sw.add({ seq: this.sw.seq, header, parts, size, sentAt: performance.now(), transmissions: 1, probe }, performance.now())
  }

  private sendRaw (type: PacketType, seq: number): void {
    this.transmit([this.header(type, seq, this.sendId)])
  }

  private header (type: PacketType, seq: number, connectionId: number): Buffer {
    return encode({
      type,
      connectionId,
      timestamp: nowUs(),
      timestampDiff: this.replyMicro,
      window: this.recv.window,
      seq,
      ack: this.recv.ack,
      sack: type === ST_STATE ? this.recv.sack() : undefined,
      payload: EMPTY
    })
  }

  private transmit (parts: Uint8Array[]): void {
    this.lastSent = performance.now()
    this.ackScheduled = false // every packet carries our latest ack
    this.link.send(parts, this.remotePort, this.remoteAddress)
  }

  private sendAck (): void {
    this.sendRaw(ST_STATE, this.sw.seq)
  }

  /** One ack for all the packets that arrive in the same turn of the event loop. */
  private scheduleAck (): void {
    if (this.ackScheduled) return
    this.ackScheduled = true
    setImmediate(() => {
      if (this.ackScheduled && this.state !== 'closed') this.sendAck()
    })
  }

  private end (err: Error | undefined, reason = 'closed'): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.closeReason = reason
    this.sw.clear()
    this.queue.length = 0
    this.writableLength = 0
    this.recv.clear()
    this.link.removed(this)
    // A connection the peer opened is handed to a listener only once established: before that
    // nobody listens, and an 'error' without a listener would end the process.
    const unseen = this.initiatedByPeer && !this.wasEstablished
    process.nextTick(() => {
      if (err !== undefined && !unseen) this.emit('error', err)
      this.emit('close', err !== undefined)
    })
  }
}
