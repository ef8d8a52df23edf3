import { EventEmitter } from 'node:events'
import { TrackerlessError } from '../../errors.js'
import type { PeerStream } from '../types.js'
import { Ledbat } from './ledbat.js'
import { encode, HEADER_SIZE, seqAdd, seqDiff, ST_DATA, ST_FIN, ST_RESET, ST_STATE, ST_SYN, writeTimes, type Packet, type PacketType } from './packet.js'
import { ReceiveBuffer } from './receive.js'

export interface UtpConnectionOptions {
  /** Largest datagram we send; 1400 fits a 1500-byte MTU under IPv6 and a tunnel header. */
  packetSize: number
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
  receiveWindow: 1024 * 1024,
  connectTimeout: 10_000,
  idleTimeout: 60_000,
  maxRetransmits: 6
}

/** What a connection needs of the socket it lives on. */
export interface UtpLink {
  send (buf: Buffer, port: number, address: string): void
  /** The connection reached 'connected' (an accepted one is handed to the listener then). */
  established (conn: UtpConnection): void
  removed (conn: UtpConnection): void
}

interface Outgoing { seq: number, buf: Buffer, size: number, sentAt: number, transmissions: number }

type State = 'syn-sent' | 'syn-recv' | 'connected' | 'closed'

const KEEPALIVE_MS = 29_000

function nowUs (): number {
  return Math.floor(performance.now() * 1000) >>> 0
}

/** One uTP connection, usable wherever a TCP socket is (PeerStream), e.g. `new Wire(conn)`. */
export class UtpConnection extends EventEmitter implements PeerStream {
  state: State
  readonly writableHighWaterMark = 64 * 1024
  writableLength = 0
  readonly createdAt = performance.now()
  /** Why the connection ended, once it has. */
  closeReason: string | undefined
  /** An incoming connection (we answered its SYN). */
  readonly initiatedByPeer: boolean
  wasEstablished = false
  private seq: number
  private lastAcked: number
  private readonly out = new Map<number, Outgoing>()
  private inflight = 0
  private readonly queue: Uint8Array[] = []
  private corked = 0
  private needDrain = false
  private readonly recv: ReceiveBuffer
  private readonly cc: Ledbat
  private peerWindow: number
  private replyMicro = 0
  private lastHeard = performance.now()
  private lastSent = 0
  private rtoDeadline = 0
  private timeouts = 0
  private dupAcks = 0
  private fastResent = -1
  private recoverAt = -1 // when a timeout fired (-1: none pending): what was sent before it is lost
  private ackScheduled = false
  private readonly maxPayload: number

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
    this.peerWindow = opts.receiveWindow
    this.recv = new ReceiveBuffer(opts.receiveWindow, Math.ceil(opts.receiveWindow / this.maxPayload) + 1)
    this.seq = (Math.random() * 0x10000) & 0xffff
    this.lastAcked = seqAdd(this.seq, -1)
    this.initiatedByPeer = syn !== undefined
    if (syn === undefined) {
      this.state = 'syn-sent'
      this.sendPacket(ST_SYN, new Uint8Array(0), this.recvId)
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
    if (this.corked === 0) this.flush()
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
    if (this.state === 'connected') this.sendPacket(ST_FIN, new Uint8Array(0))
    this.end(err)
  }

  resetAndDestroy (): void {
    if (this.state === 'closed') return
    this.sendRaw(ST_RESET, this.seq, new Uint8Array(0))
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
      if (p.type !== ST_STATE || p.ack !== this.lastAckedPlus(1)) return
      this.recv.ack = seqAdd(p.seq, -1)
      this.state = 'connected'
      this.wasEstablished = true
      this.link.established(this)
      this.emit('connect')
    }
    this.lastHeard = now
    this.replyMicro = (nowUs() - p.timestamp) >>> 0
    this.peerWindow = p.window
    this.onAck(p, now)
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
    if (this.out.size > 0 && now >= this.rtoDeadline) {
      if (++this.timeouts > this.opts.maxRetransmits) {
        this.end(new TrackerlessError('ETIMEDOUT', `the uTP peer ${this.remoteAddress}:${this.remotePort} stopped acknowledging data`), 'retransmission timeout')
        return
      }
      this.cc.onTimeout()
      const first = this.firstOutstanding()
      if (first !== undefined) this.resend(first, now)
      this.recoverAt = now
      this.rtoDeadline = now + this.cc.rto
    } else if (this.state === 'connected' && now - this.lastSent > KEEPALIVE_MS) {
      this.sendAck()
    }
  }

  private deliver (chunk: Uint8Array): void {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (this.onData !== undefined) this.onData(buf)
    else this.emit('data', buf)
  }

  private lastAckedPlus (n: number): number {
    return seqAdd(this.lastAcked, n)
  }

  private onAck (p: Packet, now: number): void {
    // An ack for a packet we never sent is forged or broken: ignore what it says.
    if (seqDiff(p.ack, this.seq) >= 0 || seqDiff(p.ack, this.lastAcked) < 0) return
    let acked = 0
    const advanced = p.ack !== this.lastAcked
    while (this.lastAcked !== p.ack) {
      this.lastAcked = seqAdd(this.lastAcked, 1)
      acked += this.ackOne(this.lastAcked, now)
    }
    if (p.sack !== undefined) acked += this.onSack(p.ack, p.sack, now)
    if (!advanced && this.out.size > 0 && p.type === ST_STATE && p.sack === undefined) {
      if (++this.dupAcks === 3) this.fastRetransmit(now)
    } else if (advanced) {
      this.dupAcks = 0
    }
    this.cc.onAck(acked, p.timestampDiff, now)
    if (advanced && this.recoverAt >= 0) this.recover(now)
    if (acked > 0 || advanced) {
      this.timeouts = 0
      this.rtoDeadline = now + this.cc.rto
    }
  }

  private ackOne (seq: number, now: number): number {
    const o = this.out.get(seq)
    if (o === undefined) return 0
    this.out.delete(seq)
    this.inflight -= o.size
    if (o.transmissions === 1) this.cc.onRtt(now - o.sentAt)
    return o.size
  }

  private onSack (ack: number, sack: Uint8Array, now: number): number {
    let acked = 0
    let above = 0
    // Only bits naming packets in flight count, so a long mask costs at most its own length.
    const span = Math.min(sack.length * 8, seqDiff(this.seq, ack) - 2)
    let lost = false
    for (let bit = span - 1; bit >= -1; bit--) {
      const seq = seqAdd(ack, bit + 2)
      if (bit >= 0 && (sack[bit >> 3]! & (1 << (bit & 7))) !== 0) {
        above++
        acked += this.ackOne(seq, now)
        continue
      }
      // A hole with three packets received after it is lost; resend it once per round trip.
      const o = above >= 3 ? this.out.get(seq) : undefined
      if (o === undefined || (o.transmissions > 1 && now - o.sentAt < Math.max(this.cc.srtt, 1))) continue
      lost = true
      this.resend(o, now)
    }
    if (lost) this.lossOnce()
    return acked
  }

  private fastRetransmit (now: number): void {
    const first = this.firstOutstanding()
    if (first === undefined) return
    if (first.transmissions > 1 && now - first.sentAt < Math.max(this.cc.srtt, 1)) return
    this.lossOnce()
    this.resend(first, now)
  }

  /** Go-back-N after a timeout, two per ack: a burst lost whole came back one per doubled RTO. */
  private recover (now: number): void {
    let sent = 0
    for (let s = this.lastAckedPlus(1); s !== this.seq && sent < 2; s = seqAdd(s, 1)) if ((this.out.get(s)?.sentAt ?? now) < this.recoverAt && ++sent > 0) this.resend(this.out.get(s)!, now)
    if (sent === 0) this.recoverAt = -1
  }

  /** Halves the window once per window of data, however many of its packets were lost. */
  private lossOnce (): void {
    if (this.fastResent !== -1 && seqDiff(this.lastAcked, this.fastResent) < 0) return
    this.fastResent = seqAdd(this.seq, -1)
    this.cc.onLoss()
  }

  private firstOutstanding (): Outgoing | undefined {
    for (let s = this.lastAckedPlus(1); s !== this.seq; s = seqAdd(s, 1)) {
      const o = this.out.get(s)
      if (o !== undefined) return o
    }
    return undefined
  }

  private resend (o: Outgoing, now: number): void {
    o.transmissions++
    o.sentAt = now
    writeTimes(o.buf, nowUs(), this.replyMicro, this.recv.window, this.recv.ack)
    this.transmit(o.buf)
  }

  private flush (): void {
    if (this.state !== 'connected') return
    const window = Math.min(this.cc.cwnd, this.peerWindow)
    while (this.writableLength > 0 && (this.inflight === 0 || this.inflight + this.maxPayload <= window)) {
      const size = Math.min(this.maxPayload, this.writableLength)
      const payload = Buffer.allocUnsafe(size)
      let at = 0
      while (at < size) {
        const head = this.queue[0]!
        const take = Math.min(head.length, size - at)
        payload.set(take === head.length ? head : head.subarray(0, take), at)
        at += take
        if (take === head.length) this.queue.shift()
        else this.queue[0] = head.subarray(take)
      }
      this.writableLength -= size
      this.sendPacket(ST_DATA, payload)
    }
    if (this.needDrain && this.writableLength === 0) {
      this.needDrain = false
      this.emit('drain')
    }
  }

  private sendPacket (type: PacketType, payload: Uint8Array, connectionId = this.sendId): void {
    const now = performance.now()
    const buf = this.sendRaw(type, this.seq, payload, connectionId)
    if (this.out.size === 0) this.rtoDeadline = now + this.cc.rto
    this.out.set(this.seq, { seq: this.seq, buf, size: payload.length, sentAt: now, transmissions: 1 })
    this.inflight += payload.length
    this.seq = seqAdd(this.seq, 1)
  }

  private sendRaw (type: PacketType, seq: number, payload: Uint8Array, connectionId = this.sendId): Buffer {
    const buf = encode({
      type,
      connectionId,
      timestamp: nowUs(),
      timestampDiff: this.replyMicro,
      window: this.recv.window,
      seq,
      ack: this.recv.ack,
      sack: type === ST_STATE ? this.recv.sack() : undefined,
      payload
    })
    this.transmit(buf)
    return buf
  }

  private transmit (buf: Buffer): void {
    this.lastSent = performance.now()
    this.ackScheduled = false // every packet carries our latest ack
    this.link.send(buf, this.remotePort, this.remoteAddress)
  }

  private sendAck (): void {
    this.sendRaw(ST_STATE, this.seq, new Uint8Array(0))
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
    this.out.clear()
    this.queue.length = 0
    this.writableLength = 0
    this.inflight = 0
    this.recv.clear()
    this.link.removed(this)
    process.nextTick(() => {
      if (err !== undefined) this.emit('error', err)
      this.emit('close', err !== undefined)
    })
  }
}
