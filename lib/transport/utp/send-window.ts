import type { Ledbat } from './ledbat.js'
import { seqAdd, seqDiff, ST_STATE, type Packet } from './packet.js'

/** A packet sent and not yet acknowledged. `parts` is what goes on the wire: the header first,
 *  then the payload as the writer's own chunks (no copy). */
export interface Outgoing {
  seq: number
  header: Buffer
  parts: Uint8Array[]
  /** Payload bytes (what counts against the window). */
  size: number
  sentAt: number
  transmissions: number
  /** A path-MTU probe (see mtu-probe.ts): its loss says nothing about congestion. */
  probe: boolean
}

/** What the window needs of its connection. */
export interface SendWindowHost {
  /** Sends an outgoing packet again, with fresh timestamps and our latest ack. */
  resend: (o: Outgoing, now: number) => void
  /** A probe came through on its first transmission: the path and the peer take that size. */
  probeAcked: (o: Outgoing) => void
}

/**
 * The sending half of a uTP connection: the packets in flight, what the peer's acks and selective
 * acks say about them, and the retransmissions (fast, on three later packets received; go-back-N
 * after a timeout). Congestion signals go to the Ledbat it is given.
 */
export class SendWindow {
  /** Sequence number of the next packet we send. */
  seq: number
  lastAcked: number
  /** Payload bytes in flight. */
  inflight = 0
  rtoDeadline = 0
  /** Consecutive retransmission timeouts. */
  timeouts = 0
  private readonly out = new Map<number, Outgoing>()
  private dupAcks = 0
  private fastResent = -1
  private recoverAt = -1 // when a timeout fired (-1: none pending): what was sent before it is lost

  constructor (private readonly cc: Ledbat, private readonly host: SendWindowHost, firstSeq: number) {
    this.seq = firstSeq
    this.lastAcked = seqAdd(firstSeq, -1)
  }

  get size (): number { return this.out.size }

  lastAckedPlusOne (): number { return seqAdd(this.lastAcked, 1) }

  /** Records a packet just sent with sequence number `this.seq`, and moves on to the next. */
  add (o: Outgoing, now: number): void {
    if (this.out.size === 0) this.rtoDeadline = now + this.cc.rto
    this.out.set(o.seq, o)
    this.inflight += o.size
    this.seq = seqAdd(this.seq, 1)
  }

  /** Takes the ack fields of any packet from the peer. */
  onAck (p: Packet, now: number): void {
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

  /** The retransmission timer fired (the caller checked the deadline and counted the timeout):
   *  resend the oldest packet, and the rest of the window as acks come back. */
  onTimeout (now: number): void {
    const first = this.firstOutstanding()
    if (first?.probe !== true || first.transmissions > 1) this.cc.onTimeout()
    if (first !== undefined) this.host.resend(first, now)
    this.recoverAt = now
    this.rtoDeadline = now + this.cc.rto
  }

  clear (): void {
    this.out.clear()
    this.inflight = 0
  }

  private ackOne (seq: number, now: number): number {
    const o = this.out.get(seq)
    if (o === undefined) return 0
    this.out.delete(seq)
    this.inflight -= o.size
    if (o.transmissions === 1) {
      this.cc.onRtt(now - o.sentAt)
      if (o.probe) this.host.probeAcked(o)
    }
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
      if (!o.probe) lost = true
      this.host.resend(o, now)
    }
    if (lost) this.lossOnce()
    return acked
  }

  private fastRetransmit (now: number): void {
    const first = this.firstOutstanding()
    if (first === undefined) return
    if (first.transmissions > 1 && now - first.sentAt < Math.max(this.cc.srtt, 1)) return
    if (!first.probe) this.lossOnce()
    this.host.resend(first, now)
  }

  /** Go-back-N after a timeout, two per ack: a burst lost whole came back one per doubled RTO. */
  private recover (now: number): void {
    let sent = 0
    for (let s = seqAdd(this.lastAcked, 1); s !== this.seq && sent < 2; s = seqAdd(s, 1)) {
      const o = this.out.get(s)
      if (o !== undefined && o.sentAt < this.recoverAt) {
        sent++
        this.host.resend(o, now)
      }
    }
    if (sent === 0) this.recoverAt = -1
  }

  /** Halves the window once per window of data, however many of its packets were lost. */
  private lossOnce (): void {
    if (this.fastResent !== -1 && seqDiff(this.lastAcked, this.fastResent) < 0) return
    this.fastResent = seqAdd(this.seq, -1)
    this.cc.onLoss()
  }

  private firstOutstanding (): Outgoing | undefined {
    for (let s = seqAdd(this.lastAcked, 1); s !== this.seq; s = seqAdd(s, 1)) {
      const o = this.out.get(s)
      if (o !== undefined) return o
    }
    return undefined
  }
}
