import type { Clock } from '../../lib/swarm/peers/clock.js'

/** A clock that moves only when the test says: tick(ms) runs, in time order, what falls due. */
export class FakeClock implements Clock {
  private time = 1_000_000
  private seq = 0
  private readonly timers = new Map<number, { at: number, fn: () => void }>()

  now (): number {
    return this.time
  }

  setTimeout (fn: () => void, ms: number): unknown {
    const id = ++this.seq
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn })
    return id
  }

  clearTimeout (handle: unknown): void {
    this.timers.delete(handle as number)
  }

  get pending (): number {
    return this.timers.size
  }

  tick (ms: number): void {
    const end = this.time + ms
    // Bounded: a timer that re-arms itself at the same instant forever is a bug to see, not hang on.
    for (let runs = 0; runs < 100_000; runs++) {
      let next: [number, { at: number, fn: () => void }] | null = null
      for (const entry of this.timers) if (entry[1].at <= end && (next === null || entry[1].at < next[1].at)) next = entry
      if (next === null) break
      this.timers.delete(next[0])
      this.time = next[1].at
      next[1].fn()
    }
    this.time = end
  }
}
