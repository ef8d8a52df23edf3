import { EventEmitter } from 'node:events'
import type { Swarm } from '../swarm/swarm.js'
import type { ArchiveEvents } from './types.js'
import { torrentStats, type TorrentStats } from './torrent-stats.js'

/** Milliseconds between 'stats' events. */
export const STATS_INTERVAL = 1000

/**
 * The Archive's statistics: stats(), and a 'stats' event every second while someone listens (no
 * timer otherwise). A base class so that the Archive only says which swarm it reads.
 */
export class StatsEmitter extends EventEmitter<ArchiveEvents> {
  /** @internal The swarm the statistics are of; null for a draft not seeded. */
  protected currentSwarm: Swarm | null = null
  #timer: NodeJS.Timeout | null = null
  #stopped = false

  constructor () {
    super()
    // Node's own events, which the typed map of ArchiveEvents does not list.
    const self = this as EventEmitter
    self.on('newListener', (event: string | symbol) => {
      if (event !== 'stats' || this.#timer !== null || this.#stopped) return
      this.#timer = setInterval(() => this.emit('stats', this.stats()), STATS_INTERVAL).unref()
    })
    self.on('removeListener', (event: string | symbol) => {
      if (event === 'stats' && this.listenerCount('stats') === 0) this.#clear()
    })
  }

  /** Bytes and speeds down and up, ratio, ETA, and the peers by source and transport; zeros for a draft. */
  stats (): TorrentStats {
    return torrentStats(this.currentSwarm)
  }

  /** @internal Ends the 'stats' events for good (the archive closed). */
  stopStats (): void {
    this.#stopped = true
    this.#clear()
  }

  #clear (): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
  }
}
