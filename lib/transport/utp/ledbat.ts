/**
 * Congestion control for one uTP connection: LEDBAT (RFC 6817) driven by the one-way delay the
 * peer reports in timestamp_difference, so a bulk transfer backs off as soon as it starts
 * queueing in front of the user's other traffic; plus the RTT estimate and retransmission
 * timeout of RFC 6298.
 *
 * Two changes from RFC 6817, both LEDBAT++'s (draft-irtf-iccrg-ledbat-plus-plus): a 60 ms target,
 * since a home router's queue often holds no more than 100 ms (tbf's `latency` in the bench), so
 * a 100 ms target is never exceeded there and the transfer then backs off only on loss, as TCP
 * does; and a multiplicative decrease above the target (the window shrinks by its own size times
 * how far the delay is over the target, at most halving per window), where RFC 6817's removes at
 * most one packet per window, too slow to let a TCP flow's queue drain (bench/README.md).
 */

export const TARGET_DELAY_US = 60_000
const GAIN = 1
/** LEDBAT++'s C: the window's share removed per window of acks for each target's worth of delay over the target. */
const DECREASE = 1
/** The lowest delay seen is the path's base delay; it is forgotten after two minutes so a route
 *  change (or a peer's clock drift) does not pin it. */
const BASE_HISTORY_MS = 60_000
const MIN_RTO_MS = 500
const MAX_RTO_MS = 60_000

export class Ledbat {
  cwnd: number
  private slowStart = true
  private readonly base: number[] = []
  private baseSince = 0
  srtt = 0
  rttVar = 0
  rto = 1000
  /** The last queueing delay measured, microseconds. */
  queuing = 0

  constructor (public mss: number, readonly maxCwnd: number, now: number) {
    this.cwnd = 2 * mss
    this.baseSince = now
  }

  /** The path took larger packets (an MTU probe came through): two of them fit the window. */
  setMss (mss: number): void {
    this.mss = mss
    this.cwnd = Math.min(this.maxCwnd, Math.max(this.cwnd, 2 * mss))
  }

  /** `delay` is the peer's timestamp_difference (one-way delay plus clock offset, mod 2^32). */
  onAck (bytesAcked: number, delay: number, now: number): void {
    if (delay !== 0) this.sampleDelay(delay, now)
    if (bytesAcked <= 0) return
    const offTarget = (TARGET_DELAY_US - this.queuing) / TARGET_DELAY_US
    if (this.slowStart && offTarget > 0.5) {
      this.cwnd += bytesAcked
    } else if (offTarget >= 0) {
      this.slowStart = false
      // At most one MSS more per window's worth of acks, as RFC 6817 caps the increase.
      this.cwnd += GAIN * offTarget * bytesAcked * this.mss / this.cwnd
    } else {
      this.slowStart = false
      // Per window of acks: W += max(GAIN·MSS − C·W·(delay/target − 1), −W/2).
      const perWindow = Math.max(GAIN * this.mss + DECREASE * offTarget * this.cwnd, -this.cwnd / 2)
      this.cwnd += perWindow * bytesAcked / this.cwnd
    }
    this.cwnd = Math.max(this.mss, Math.min(this.cwnd, this.maxCwnd))
  }

  onRtt (sampleMs: number): void {
    if (this.srtt === 0) {
      this.srtt = sampleMs
      this.rttVar = sampleMs / 2
    } else {
      this.rttVar += (Math.abs(this.srtt - sampleMs) - this.rttVar) / 4
      this.srtt += (sampleMs - this.srtt) / 8
    }
    this.rto = Math.min(MAX_RTO_MS, Math.max(MIN_RTO_MS, this.srtt + 4 * this.rttVar))
  }

  onLoss (): void {
    this.slowStart = false
    this.cwnd = Math.max(this.mss, this.cwnd / 2)
  }

  onTimeout (): void {
    this.slowStart = false
    this.cwnd = this.mss
    this.rto = Math.min(MAX_RTO_MS, this.rto * 2)
  }

  private sampleDelay (delay: number, now: number): void {
    if (now - this.baseSince > BASE_HISTORY_MS) {
      this.baseSince = now
      this.base.push(delay)
      if (this.base.length > 2) this.base.shift()
    }
    if (this.base.length === 0) this.base.push(delay)
    const last = this.base.length - 1
    if (((delay - this.base[last]!) | 0) < 0) this.base[last] = delay
    let base = this.base[0]!
    for (const b of this.base) if (((b - base) | 0) < 0) base = b
    this.queuing = Math.max(0, (delay - base) | 0)
  }
}
