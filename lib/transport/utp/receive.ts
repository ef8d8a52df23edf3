import { MAX_SACK_BYTES, seqAdd, seqDiff } from './packet.js'

/**
 * The receive side of a uTP connection: the last in-order sequence number, and the packets that
 * came ahead of a gap, held until it fills. Both are bounded by the window we advertise, so a
 * peer cannot make us hold more than `capacity` bytes whatever sequence numbers it sends.
 */
export class ReceiveBuffer {
  /** Last sequence number delivered in order. */
  ack = 0
  private readonly ahead = new Map<number, Uint8Array>()
  private aheadBytes = 0
  /** Sequence number of the peer's FIN, once seen. */
  finSeq: number | undefined

  constructor (readonly capacity: number, readonly maxAhead: number) {}

  get window (): number {
    return Math.max(0, this.capacity - this.aheadBytes)
  }

  get complete (): boolean {
    return this.finSeq !== undefined && this.ack === this.finSeq
  }

  /**
   * Takes one DATA (or FIN, `fin` true) packet; calls `deliver` with each payload that is now in
   * order. Returns false when the packet was outside the window and dropped.
   */
  push (seq: number, payload: Uint8Array, fin: boolean, deliver: (chunk: Uint8Array) => void): boolean {
    const d = seqDiff(seq, seqAdd(this.ack, 1))
    if (d < 0) return true // already delivered: the ack we send covers it
    if (d >= this.maxAhead) return false
    if (fin) {
      if (this.finSeq !== undefined && this.finSeq !== seq) return false
      this.finSeq = seq
    } else if (this.finSeq !== undefined && seqDiff(seq, this.finSeq) >= 0) {
      return false // data past the peer's own FIN
    }
    if (d > 0) {
      if (this.ahead.has(seq) || this.aheadBytes + payload.length > this.capacity) return false
      this.ahead.set(seq, payload)
      this.aheadBytes += payload.length
      return true
    }
    this.ack = seq
    if (payload.length > 0) deliver(payload)
    for (;;) {
      const next = seqAdd(this.ack, 1)
      const held = this.ahead.get(next)
      if (held === undefined) break
      this.ahead.delete(next)
      this.aheadBytes -= held.length
      this.ack = next
      if (held.length > 0) deliver(held)
    }
    return true
  }

  /** The selective ACK bitmask for what we hold ahead of the gap, or undefined if nothing. */
  sack (): Uint8Array | undefined {
    if (this.ahead.size === 0) return undefined
    let last = 0
    for (const seq of this.ahead.keys()) last = Math.max(last, seqDiff(seq, this.ack) - 2)
    const bytes = Math.min(MAX_SACK_BYTES, (Math.floor(last / 32) + 1) * 4)
    const mask = new Uint8Array(bytes)
    for (const seq of this.ahead.keys()) {
      const bit = seqDiff(seq, this.ack) - 2
      if (bit >= 0 && bit < bytes * 8) mask[bit >> 3]! |= 1 << (bit & 7)
    }
    return mask
  }

  clear (): void {
    this.ahead.clear()
    this.aheadBytes = 0
  }
}
