/**
 * Whose walk it is: `peers` for a torrent that wants peers (a download the user waits for),
 * `background` for announces of torrents that have enough (a seed's, re-announces).
 */
export type WalkPriority = 'peers' | 'background'

/** Starts one walk; calls `done` once, when it ended (answered, failed or timed out). */
export type Walk = (done: () => void) => void

/** Default walks in flight per DHT node. */
export const MAX_WALKS = 16
/** While background walks wait, one starts after this many `peers` walks: none waits for ever. */
export const PEERS_PER_BACKGROUND = 4
/** A walk still running after this long gives its slot back (it may go on): DHT nodes that keep
 *  answering with ever closer nodes could otherwise hold every slot, and all discovery with them. */
export const WALK_SLOT_MS = 60_000

/**
 * A bound on DHT walks (get_peers walks, announces) in flight: a client that joins 1,000
 * torrents at once sends them as a queue of `limit` walks, not a burst of 1,000. Two FIFO
 * queues; walks for torrents that want peers go first, with one background walk after every
 * `PEERS_PER_BACKGROUND` of them while both wait.
 */
export class WalkQueue {
  private readonly limit: number
  private readonly slotMs: number
  private readonly queues: Record<WalkPriority, Walk[]> = { peers: [], background: [] }
  private running = 0
  private peersInARow = 0
  private closed = false
  private draining = false

  constructor (limit = MAX_WALKS, slotMs = WALK_SLOT_MS) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`walks in flight must be a positive integer, not ${limit}`)
    this.limit = limit
    this.slotMs = slotMs
  }

  get inFlight (): number {
    return this.running
  }

  get queued (): number {
    return this.queues.peers.length + this.queues.background.length
  }

  /** Starts `walk` now if a slot is free, else when one frees up. */
  run (priority: WalkPriority, walk: Walk): void {
    if (this.closed) return
    this.queues[priority].push(walk)
    this.drain()
  }

  /** Drops every queued walk; those in flight end on their own. */
  close (): void {
    this.closed = true
    this.queues.peers.length = 0
    this.queues.background.length = 0
  }

  private drain (): void {
    // A walk that ends at once (a closed node) frees its slot inside this loop: no recursion.
    if (this.draining) return
    this.draining = true
    try {
      while (this.running < this.limit && !this.closed) {
        const walk = this.next()
        if (walk === undefined) return
        this.running++
        let ended = false
        const release = (): void => {
          if (ended) return
          ended = true
          clearTimeout(timer)
          this.running--
          this.drain()
        }
        const timer = setTimeout(release, this.slotMs)
        timer.unref()
        walk(release)
      }
    } finally {
      this.draining = false
    }
  }

  private next (): Walk | undefined {
    const { peers, background } = this.queues
    if (peers.length > 0 && (background.length === 0 || this.peersInARow < PEERS_PER_BACKGROUND)) {
      this.peersInARow = background.length > 0 ? this.peersInARow + 1 : 0
      return peers.shift()
    }
    this.peersInARow = 0
    return background.shift()
  }
}
