/**
 * Bytes a transfer may move: `rate` bytes per second flow in, up to `rate * burstSeconds`. A
 * spend may take it below zero, since a block goes out whole, and nothing more passes until the
 * flow brings it back to zero: the debt is paid later, so the long-run rate is exact whatever
 * the block size, even a block larger than the burst. Rate 0 is unlimited. Time (ms) is passed
 * in, so that it is tested without a clock.
 */
export class TokenBucket {
  private tokens = 0
  private last: number
  private bytesPerSecond = 0
  private readonly burstSeconds: number

  constructor (rate: number, now: number, burstSeconds: number) {
    this.last = now
    this.burstSeconds = burstSeconds
    this.setRate(rate, now)
  }

  /** Bytes per second; 0 when unlimited. */
  get rate (): number {
    return this.bytesPerSecond
  }

  get unlimited (): boolean {
    return this.bytesPerSecond === 0
  }

  /** A new rate from `now` on; the debt (or credit, up to the new burst) carries over. */
  setRate (rate: number, now: number): void {
    this.refill(now)
    this.bytesPerSecond = rate
    this.tokens = rate === 0 ? 0 : Math.min(this.tokens, this.capacity)
  }

  /** A transfer may start now. */
  ready (now: number): boolean {
    if (this.unlimited) return true
    this.refill(now)
    return this.tokens >= 0
  }

  spend (bytes: number, now: number): void {
    if (this.unlimited) return
    this.refill(now)
    this.tokens -= bytes
  }

  /** Gives back `bytes` spent on a transfer that did not happen (up to the burst, as if it had
   *  never been spent while the bucket was full). */
  refund (bytes: number, now: number): void {
    if (this.unlimited) return
    this.refill(now)
    this.tokens = Math.min(this.capacity, this.tokens + bytes)
  }

  /** Milliseconds until ready(); 0 when it is now. */
  wait (now: number): number {
    if (this.unlimited) return 0
    this.refill(now)
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens * 1000 / this.bytesPerSecond)
  }

  private get capacity (): number {
    return this.bytesPerSecond * this.burstSeconds
  }

  private refill (now: number): void {
    const elapsed = now - this.last
    this.last = now
    if (elapsed > 0 && this.bytesPerSecond > 0) this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.bytesPerSecond / 1000)
  }
}
