import type { Resolved } from './resolve.js'

export interface WatcherOptions {
  /** The current item from the network, or null when nobody has it. */
  resolve: () => Promise<Resolved | null>
  /** The version in use; only a higher seq is news. */
  seq: number
  /** ms between two looks. */
  interval: number
  /** Called with each newer version, one at a time; the watcher waits for it before looking again. */
  onNewer: (found: Resolved) => Promise<void>
  /** A look or an update that failed: reported, and the watcher goes on. */
  onError: (err: Error) => void
}

/**
 * Looks for newer versions of a mutable item on a schedule. A lower or equal seq (a stale node, a
 * replayed item) is ignored, so a version never goes back.
 */
export class Watcher {
  seq: number
  private readonly opts: WatcherOptions
  private timer: NodeJS.Timeout | null = null
  private stopped = false

  constructor (opts: WatcherOptions) {
    this.opts = opts
    this.seq = opts.seq
    this.schedule()
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule (): void {
    if (this.stopped) return
    this.timer = setTimeout(() => { this.look().finally(() => this.schedule()) }, this.opts.interval)
    this.timer.unref()
  }

  private async look (): Promise<void> {
    try {
      const found = await this.opts.resolve()
      if (this.stopped || found === null || found.seq <= this.seq) return
      await this.opts.onNewer(found)
      this.seq = found.seq
    } catch (err) {
      if (!this.stopped) this.opts.onError(err as Error)
    }
  }
}
