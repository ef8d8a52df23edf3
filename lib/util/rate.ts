/**
 * Bytes per second over a sliding window of one-second buckets: smooth enough to rank peers for
 * choking and to size request queues, cheap enough to update per block.
 */
export class Rate {
  private readonly buckets: Float64Array
  private readonly windowSeconds: number
  private head = 0
  private headSecond = 0
  private sum = 0
  total = 0
  /** When bytes were last added (ms since the epoch); 0 before. */
  lastAt = 0

  constructor (windowSeconds = 5) {
    this.windowSeconds = windowSeconds
    this.buckets = new Float64Array(windowSeconds)
  }

  add (bytes: number, now = Date.now()): void {
    this.advance(now)
    this.buckets[this.head]! += bytes
    this.sum += bytes
    this.total += bytes
    this.lastAt = now
  }

  /** Bytes per second over the window. */
  get (now = Date.now()): number {
    this.advance(now)
    return this.sum / this.windowSeconds
  }

  private advance (now: number): void {
    const second = Math.floor(now / 1000)
    let steps = Math.min(second - this.headSecond, this.windowSeconds)
    if (this.headSecond === 0) steps = 0
    this.headSecond = second
    while (steps-- > 0) {
      this.head = (this.head + 1) % this.windowSeconds
      this.sum -= this.buckets[this.head]!
      this.buckets[this.head] = 0
    }
  }
}
