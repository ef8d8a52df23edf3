/**
 * The addresses one torrent may dial, with when to try each again. A peer the user named
 * (lookup's `peers`, `--peer`, a magnet's x.pe, seed's `peers`) is retried for as long as the
 * torrent runs, since it may simply not be up yet; a peer that others told us of is forgotten
 * after a few failures, since anyone can hand us addresses.
 */

export type PeerSource = 'named' | 'discovered'

export interface PeerListOptions {
  /** Dial `address` again; false when the swarm has no room or no need for it now. */
  redial: (address: string, source: PeerSource) => boolean
  /** Entries kept at most; a named address pushes out a discovered one (default 500). */
  maxEntries?: number
}

interface Entry {
  source: PeerSource
  fails: number
  /** When to dial it again; 0 while dialling or connected. */
  nextAt: number
}

/** The first retry after a failure; each further failure doubles it, up to MAX_DELAY. */
export const FIRST_DELAY = 1_000
/** The longest wait between two tries of a named peer: it stays reachable within a minute. */
export const MAX_DELAY = 60_000
/** Failures in a row after which a discovered address is forgotten. */
export const DISCOVERED_FAILS = 3

export class PeerList {
  private readonly entries = new Map<string, Entry>()
  private readonly opts: PeerListOptions
  private timer: NodeJS.Timeout | null = null
  private timerAt = 0
  private closed = false

  constructor (opts: PeerListOptions) {
    this.opts = opts
  }

  get size (): number {
    return this.entries.size
  }

  /** Remembers `address`; a named one stays named when discovery hands it over again. False
   *  when the list is full of entries at least as worthy. */
  add (address: string, source: PeerSource): boolean {
    const entry = this.entries.get(address)
    if (entry !== undefined) {
      if (source === 'named') entry.source = 'named'
      return true
    }
    if (this.entries.size >= (this.opts.maxEntries ?? 500) && !this.evictFor(source)) return false
    this.entries.set(address, { source, fails: 0, nextAt: 0 })
    return true
  }

  /** Forgets `address` (banned, or it turned out to be us). */
  remove (address: string): void {
    this.entries.delete(address)
  }

  /** A dial of `address` failed (refused, timed out, no handshake). */
  failed (address: string): void {
    const entry = this.entries.get(address)
    if (entry === undefined || this.closed) return
    entry.fails++
    if (entry.source === 'discovered' && entry.fails >= DISCOVERED_FAILS) {
      this.entries.delete(address)
      return
    }
    this.retryLater(entry)
  }

  /** A connection to `address` that had shaken hands ended after `lasted` ms. One that lasted
   *  longer than the longest wait was a good one: the backoff starts over. */
  ended (address: string, lasted: number): void {
    const entry = this.entries.get(address)
    if (entry === undefined || this.closed) return
    if (lasted >= MAX_DELAY) entry.fails = 0
    entry.fails++
    this.retryLater(entry)
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
  }

  private retryLater (entry: Entry): void {
    entry.nextAt = Date.now() + Math.min(MAX_DELAY, FIRST_DELAY * 2 ** Math.min(entry.fails - 1, 16))
    this.arm()
  }

  /** One timer for the whole list, set for the earliest retry. */
  private arm (): void {
    let earliest = Infinity
    for (const entry of this.entries.values()) if (entry.nextAt !== 0 && entry.nextAt < earliest) earliest = entry.nextAt
    if (this.closed || earliest === Infinity || (this.timer !== null && this.timerAt <= earliest)) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timerAt = earliest
    this.timer = setTimeout(() => this.fire(), Math.max(0, earliest - Date.now()))
    this.timer.unref()
  }

  private fire (): void {
    this.timer = null
    const now = Date.now()
    for (const [address, entry] of this.entries) {
      if (entry.nextAt === 0 || entry.nextAt > now) continue
      entry.nextAt = 0
      // No room now: the same wait again, not counted as a failure of the peer.
      if (!this.opts.redial(address, entry.source) && this.entries.get(address) === entry) this.retryLater(entry)
    }
    this.arm()
  }

  private evictFor (source: PeerSource): boolean {
    // The discovered entry that failed most goes first; named entries are never pushed out.
    let worst: string | null = null
    let worstFails = -1
    for (const [address, entry] of this.entries) {
      if (entry.source === 'discovered' && entry.fails > worstFails) { worst = address; worstFails = entry.fails }
    }
    if (worst === null || (source === 'discovered' && worstFails === 0)) return false
    this.entries.delete(worst)
    return true
  }
}
