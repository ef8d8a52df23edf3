/**
 * The addresses one torrent knows, where each came from, and when to try each again. A peer the
 * user named (lookup's `peers`, `--peer`, a magnet's x.pe, seed's `peers`) is retried for as long
 * as the torrent runs, since it may simply not be up yet; a peer that others told us of is
 * forgotten after a few failures, since anyone can hand us addresses. When a dial fails or a
 * connection ends, the slot it held goes to the best address waiting for room: named first, then
 * the fewest failures, then the highest BEP40 priority.
 */
import type { TransportName } from '../transport/types.js'
import { peerPriority } from './peers/bep40.js'
import { BanBook } from './peers/bans.js'
import { realClock, type Clock } from './peers/clock.js'

/** 'named': the user's. 'discovered' is any untrusted source when the caller does not say which. */
export type PeerSource = 'named' | 'dht' | 'lsd' | 'pex' | 'incoming' | 'discovered'
/** What the swarm did with a redial: dialled it, had no room, or had no reason (connected already, us). */
export type DialOutcome = 'dialled' | 'full' | 'skipped'

export interface PeerListOptions {
  /** Dial `address` again now. `source` is 'named' when the user named it. */
  redial: (address: string, source: PeerSource) => DialOutcome
  /** Entries kept at most; a named address pushes out a discovered one (default 500). */
  maxEntries?: number
  /** Our address as peers see it, for BEP40 priorities; without it equal candidates keep their order. */
  self?: () => { host: string, port: number } | null
  clock?: Clock
}

/** What the list knows of one address (a copy: changing it changes nothing). */
export interface PeerInfo {
  address: string
  sources: PeerSource[]
  /** We reached it by dialling. */
  connectable: boolean
  /** The transports it answered on when we dialled it or it dialled us. */
  transports: TransportName[]
  /** Failures in a row (a connection that ended counts; one that lasted resets the count). */
  fails: number
  /** When we last dialled it (0: never). */
  lastAttempt: number
  /** When it is due for a dial; 0 while it is being dialled or is connected. */
  nextAttempt: number
}

interface Entry {
  address: string
  host: string
  port: number
  sources: Set<PeerSource>
  connectable: boolean
  transports: Set<TransportName>
  fails: number
  lastAttempt: number
  /** Due for a dial at this time; ignored while `busy`. */
  nextAt: number
  /** Being dialled, or connected. */
  busy: boolean
  /** Refused for want of room: dialled as soon as a slot frees. */
  waitsForRoom: boolean
}

/** The first retry after a failure; each further failure doubles it, up to MAX_DELAY. */
export const FIRST_DELAY = 1_000
/** The longest wait between two tries of a named peer: it stays reachable within a minute. */
export const MAX_DELAY = 60_000
/** Failures in a row after which a discovered address is forgotten. */
export const DISCOVERED_FAILS = 3

export class PeerList {
  private readonly entries = new Map<string, Entry>()
  private readonly bans = new BanBook()
  private readonly opts: PeerListOptions
  private readonly clock: Clock
  private timer: unknown = null
  private timerAt = 0
  private closed = false

  constructor (opts: PeerListOptions) {
    this.opts = opts
    this.clock = opts.clock ?? realClock
  }

  get size (): number {
    return this.entries.size
  }

  /** Remembers `address` from `source`, due for a dial now. False when it is banned, or the list
   *  is full of entries at least as worthy. */
  add (address: string, source: PeerSource): boolean {
    if (this.closed || this.bans.reason(address) !== undefined) return false
    const entry = this.entries.get(address)
    if (entry !== undefined) {
      entry.sources.add(source)
      return true
    }
    if (this.entries.size >= (this.opts.maxEntries ?? 500) && !this.evictFor(source)) return false
    const { host, port } = split(address)
    this.entries.set(address, {
      address, host, port, sources: new Set([source]), connectable: false, transports: new Set(),
      fails: 0, lastAttempt: 0, nextAt: this.clock.now(), busy: false, waitsForRoom: false
    })
    this.arm()
    return true
  }

  /** The swarm is dialling `address` now. */
  attempt (address: string): void {
    const entry = this.entries.get(address)
    if (entry === undefined) return
    entry.busy = true
    entry.waitsForRoom = false
    entry.lastAttempt = this.clock.now()
  }

  /** A connection with `address` shook hands over `transport`; `outgoing`: we dialled it. A peer
   *  that dialled us is remembered as 'incoming' while connected. */
  connected (address: string, transport: TransportName, outgoing: boolean): void {
    if (this.entries.get(address) === undefined && !this.add(address, outgoing ? 'discovered' : 'incoming')) return
    const entry = this.entries.get(address)!
    entry.busy = true
    entry.waitsForRoom = false
    entry.transports.add(transport)
    if (outgoing) entry.connectable = true
  }

  /** A dial of `address` failed (refused, timed out, no handshake). */
  failed (address: string): void {
    const entry = this.entries.get(address)
    if (entry !== undefined && !this.closed) this.fail(entry)
    this.slotFreed()
  }

  /** A connection with `address` that had shaken hands ended after `lasted` ms. One that lasted
   *  longer than the longest wait was a good one: the backoff starts over; a discovered peer that
   *  keeps hanging up sooner is forgotten like one that refuses. An address that only dialled us
   *  (its port is not one to dial) is forgotten. */
  ended (address: string, lasted: number): void {
    const entry = this.entries.get(address)
    if (entry !== undefined && !this.closed) {
      entry.busy = false
      if (entry.sources.size === 1 && entry.sources.has('incoming')) {
        this.entries.delete(address)
      } else {
        if (lasted >= MAX_DELAY) entry.fails = 0
        this.fail(entry)
      }
    }
    this.slotFreed()
  }

  /** Forgets `address` (it turned out to be us). */
  remove (address: string): void {
    this.entries.delete(address)
  }

  /** Never dials or accepts `address` (nor `peerId`, hex) again, and keeps why. */
  ban (address: string, reason: string, peerId?: string): void {
    this.bans.ban(address, reason, peerId)
    this.entries.delete(address)
  }

  /** Why `address` or `peerId` (hex) is banned; undefined when it is not. */
  banReason (address: string, peerId?: string): string | undefined {
    return this.bans.reason(address, peerId)
  }

  info (address: string): PeerInfo | undefined {
    const e = this.entries.get(address)
    if (e === undefined) return undefined
    return {
      address, sources: [...e.sources], connectable: e.connectable, transports: [...e.transports],
      fails: e.fails, lastAttempt: e.lastAttempt, nextAttempt: e.busy ? 0 : e.nextAt
    }
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
  }

  private fail (entry: Entry): void {
    entry.busy = false
    entry.fails++
    if (!entry.sources.has('named') && entry.fails >= DISCOVERED_FAILS) this.entries.delete(entry.address)
    else this.retryLater(entry)
  }

  private retryLater (entry: Entry): void {
    entry.waitsForRoom = false
    entry.nextAt = this.clock.now() + Math.min(MAX_DELAY, FIRST_DELAY * 2 ** Math.min(Math.max(entry.fails - 1, 0), 16))
    this.arm()
  }

  /** A connection slot freed: the addresses refused for room are due now. */
  private slotFreed (): void {
    if (this.closed) return
    const now = this.clock.now()
    for (const entry of this.entries.values()) if (entry.waitsForRoom) entry.nextAt = now
    this.arm()
  }

  /** One timer for the whole list, set for the earliest due entry. */
  private arm (): void {
    let earliest = Infinity
    for (const entry of this.entries.values()) if (!entry.busy && entry.nextAt < earliest) earliest = entry.nextAt
    if (this.closed || earliest === Infinity || (this.timer !== null && this.timerAt <= earliest)) return
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timerAt = earliest
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, earliest - this.clock.now()))
  }

  private fire (): void {
    this.timer = null
    const now = this.clock.now()
    const due = [...this.entries.values()].filter((e) => !e.busy && e.nextAt <= now)
    let refusedNamed = false
    let refusedOthers = false
    for (const entry of this.inDialOrder(due)) {
      if (this.closed) return
      // An earlier redial may have changed it (dialled it as a duplicate, banned it, evicted it).
      if (this.entries.get(entry.address) !== entry || entry.busy) continue
      const named = entry.sources.has('named')
      // No room for one: none for the rest of its kind. They wait for a slot (or the same wait
      // again), which is not a failure of the peer.
      if (named ? refusedNamed : refusedOthers) {
        this.waitForRoom(entry, now)
        continue
      }
      const outcome = this.opts.redial(entry.address, named ? 'named' : entry.sources.values().next().value!)
      if (outcome === 'full') {
        if (named) refusedNamed = true
        refusedOthers = true
        this.waitForRoom(entry, now)
      } else if (outcome === 'skipped' && !entry.busy && this.entries.get(entry.address) === entry) {
        this.fail(entry)
      }
    }
    this.arm()
  }

  private waitForRoom (entry: Entry, now: number): void {
    entry.waitsForRoom = true
    entry.nextAt = now + FIRST_DELAY
  }

  /** Named first, then the fewest failures, then the highest BEP40 priority with us. */
  private inDialOrder (entries: Entry[]): Entry[] {
    const self = this.opts.self?.() ?? null
    const priority = new Map(entries.map((e) => [e, self === null ? 0 : peerPriority(self, e) ?? 0]))
    return entries.sort((a, b) => Number(b.sources.has('named')) - Number(a.sources.has('named')) ||
      a.fails - b.fails || priority.get(b)! - priority.get(a)!)
  }

  private evictFor (source: PeerSource): boolean {
    // The idle discovered entry that failed most goes first; named and connected ones stay.
    let worst: Entry | null = null
    for (const entry of this.entries.values()) {
      if (entry.busy || entry.sources.has('named')) continue
      if (worst === null || entry.fails > worst.fails || (entry.fails === worst.fails && !entry.connectable && worst.connectable)) worst = entry
    }
    if (worst === null || (source !== 'named' && worst.fails === 0)) return false
    this.entries.delete(worst.address)
    return true
  }
}

/** "host:port" or "[v6]:port" into its parts (a name stays a name: it gets no BEP40 priority). */
function split (address: string): { host: string, port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) }
}
