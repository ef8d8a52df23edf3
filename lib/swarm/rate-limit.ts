/**
 * Rate limits (downloadLimit, uploadLimit): a token bucket per client and per torrent for each
 * direction, and a block moves only when both of its buckets allow it. Only piece payload counts
 * (the bytes stats() reports); message headers and other messages pass freely.
 *
 * Uploads: the uploader takes a peer's next request off its queue only when the buckets allow,
 * so waiting requests stay in that queue (bounded, UPLOAD_QUEUE) and no block is read early.
 * Downloads: requests are paced, not socket reads: a request is sent only when the buckets
 * allow its length, so peers never send faster than the limit and no socket buffer fills up.
 *
 * Fairness: a peer that must wait joins one line per direction for the whole client, and each
 * peer at the head of the line moves one block and goes to its back: peers share a limit in
 * equal blocks, whichever torrent they belong to.
 */
import { TokenBucket } from '../util/token-bucket.js'
import { TrackerlessError } from '../errors.js'
import type { Clock } from './peers/clock.js'

/** Bytes per second; 0 (or undefined, or Infinity) is unlimited. */
export interface RateLimits {
  /** Piece data received, bytes per second; 0: unlimited. */
  downloadLimit?: number
  /** Piece data sent, bytes per second; 0: unlimited. */
  uploadLimit?: number
}

/** What the uploader and the request scheduler ask before moving a block for a peer (`key`). */
export interface RateGate {
  /** True when a block may move now; else false, and `wake` is called once when it may. */
  allow (key: object, wake: () => void): boolean
  /** A block of `bytes` moved (after allow() said true). */
  spend (bytes: number): void
  /** `bytes` spent on requests that will not be answered (the peer choked us, rejected them,
   *  stalled or left) come back: otherwise a choke-heavy swarm runs below the limit. */
  refund (bytes: number): void
  /** The peer left: it waits no more. */
  forget (key: object): void
}

/** The gate of a transfer nothing limits. */
export const UNLIMITED: RateGate = { allow: () => true, spend: () => {}, refund: () => {}, forget: () => {} }

/** Bytes asked for in `requests`: what refund() gives back when they will not be answered. */
export function requestedBytes (requests: Iterable<{ readonly length: number }>): number {
  let bytes = 0
  for (const req of requests) bytes += req.length
  return bytes
}

/** Seconds of the rate a bucket saves up while idle: covers a busy event loop's delays without
 *  letting a burst exceed a 10 s average by more than a few percent. */
const BURST_SECONDS = 0.25
/** Passes over the line per timer: each moves at least one block, so tokens end them first. */
const MAX_ROUNDS = 64

const monotonic: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
}

interface Waiter { readonly buckets: readonly TokenBucket[], readonly wake: () => void }

/** One direction's line of waiting peers for a client, and the one timer that serves it. */
export class Throttle {
  readonly clock: Clock
  /** In arrival order (a Map keeps it): the head of the line is served first. */
  private readonly waiters = new Map<object, Waiter>()
  /** Waiters per bucket: a newcomer queues behind them instead of taking their tokens. */
  private readonly waiting = new Map<TokenBucket, number>()
  private timer: unknown = null
  /** The waiter being woken: its next allow() is granted (one block). */
  private pass: object | null = null

  constructor (clock: Clock = monotonic) {
    this.clock = clock
  }

  allow (key: object, buckets: readonly TokenBucket[], wake: () => void): boolean {
    if (this.pass === key) {
      this.pass = null
      return true
    }
    if (this.waiters.has(key)) return false
    const now = this.clock.now()
    if (buckets.every((b) => b.ready(now) && (this.waiting.get(b) ?? 0) === 0)) return true
    this.waiters.set(key, { buckets, wake })
    for (const b of buckets) this.waiting.set(b, (this.waiting.get(b) ?? 0) + 1)
    this.schedule()
    return false
  }

  spend (buckets: readonly TokenBucket[], bytes: number): void {
    const now = this.clock.now()
    for (const b of buckets) b.spend(bytes, now)
  }

  refund (buckets: readonly TokenBucket[], bytes: number): void {
    const now = this.clock.now()
    for (const b of buckets) b.refund(bytes, now)
    if (this.waiters.size > 0) this.reschedule()
  }

  forget (key: object): void {
    const waiter = this.waiters.get(key)
    if (waiter === undefined) return
    this.remove(key, waiter)
    if (this.waiters.size === 0) this.stop()
  }

  /** A rate changed: the line may move sooner or later. */
  reschedule (): void {
    this.stop()
    this.schedule()
  }

  /** Peers waiting. */
  get size (): number {
    return this.waiters.size
  }

  private remove (key: object, waiter: Waiter): void {
    this.waiters.delete(key)
    for (const b of waiter.buckets) {
      const n = (this.waiting.get(b) ?? 1) - 1
      if (n === 0) this.waiting.delete(b)
      else this.waiting.set(b, n)
    }
  }

  private stop (): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer)
    this.timer = null
  }

  private schedule (): void {
    if (this.timer !== null || this.waiters.size === 0) return
    const now = this.clock.now()
    let soonest = Infinity
    for (const { buckets } of this.waiters.values()) {
      soonest = Math.min(soonest, Math.max(...buckets.map((b) => b.wait(now))))
      if (soonest === 0) break
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = null
      this.serve()
    }, soonest)
  }

  /** Wakes, in line order, each waiter its buckets allow now, for one block each; one that has
   *  more to move joins the back of the line, and the line is passed over again while tokens last. */
  private serve (): void {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let moved = false
      for (const [key, waiter] of [...this.waiters]) {
        if (this.waiters.get(key) !== waiter) continue
        const now = this.clock.now()
        if (!waiter.buckets.every((b) => b.ready(now))) continue
        this.remove(key, waiter)
        this.pass = key
        try {
          waiter.wake()
        } finally {
          this.pass = null
        }
        moved = true
      }
      if (!moved) break
    }
    this.schedule()
  }
}

/** One direction of one torrent: its own bucket, then the client's. */
class Direction implements RateGate {
  readonly own: TokenBucket
  private readonly client: TokenBucket
  private readonly buckets: readonly TokenBucket[]
  private readonly throttle: Throttle
  /** Peers this direction put in the line, to take them out at close. */
  private readonly queued = new Set<object>()

  constructor (throttle: Throttle, client: TokenBucket) {
    this.throttle = throttle
    this.client = client
    this.own = new TokenBucket(0, throttle.clock.now(), BURST_SECONDS)
    this.buckets = [this.own, client]
  }

  allow (key: object, wake: () => void): boolean {
    if (this.own.unlimited && this.client.unlimited) return true
    if (this.throttle.allow(key, this.buckets, wake)) return true
    this.queued.add(key)
    return false
  }

  spend (bytes: number): void {
    if (!(this.own.unlimited && this.client.unlimited)) this.throttle.spend(this.buckets, bytes)
  }

  refund (bytes: number): void {
    if (bytes > 0 && !(this.own.unlimited && this.client.unlimited)) this.throttle.refund(this.buckets, bytes)
  }

  forget (key: object): void {
    if (this.queued.delete(key)) this.throttle.forget(key)
  }

  setRate (rate: number): void {
    this.own.setRate(rate, this.throttle.clock.now())
    this.throttle.reschedule()
  }

  close (): void {
    for (const key of this.queued) this.throttle.forget(key)
    this.queued.clear()
  }
}

/** A torrent's limits: `down` paces its requests, `up` its uploads. */
export class TorrentRates {
  readonly down: RateGate
  readonly up: RateGate
  readonly #down: Direction
  readonly #up: Direction

  /** @internal ClientRates.torrent() makes them. */
  constructor (client: ClientRates) {
    this.#down = new Direction(client.downThrottle, client.downBucket)
    this.#up = new Direction(client.upThrottle, client.upBucket)
    this.down = this.#down
    this.up = this.#up
  }

  /** The torrent's own limits (the client's apply too). */
  get limits (): Required<RateLimits> {
    return { downloadLimit: this.#down.own.rate, uploadLimit: this.#up.own.rate }
  }

  /** Sets the limits given (undefined keeps one); throws ERR_INVALID_ARG_VALUE before changing any. */
  set (limits: RateLimits): void {
    const checked = checkRateLimits(limits)
    if (checked.downloadLimit !== undefined) this.#down.setRate(checked.downloadLimit)
    if (checked.uploadLimit !== undefined) this.#up.setRate(checked.uploadLimit)
  }

  /** The torrent stopped: its peers leave the line. */
  close (): void {
    this.#down.close()
    this.#up.close()
  }
}

/** A client's limits and its two lines (download, upload) shared by all its torrents. */
export class ClientRates {
  /** @internal */ readonly downThrottle: Throttle
  /** @internal */ readonly upThrottle: Throttle
  /** @internal */ readonly downBucket: TokenBucket
  /** @internal */ readonly upBucket: TokenBucket

  constructor (limits: RateLimits = {}, clock?: Clock) {
    const checked = checkRateLimits(limits)
    this.downThrottle = new Throttle(clock)
    this.upThrottle = new Throttle(clock)
    const now = this.downThrottle.clock.now()
    this.downBucket = new TokenBucket(checked.downloadLimit ?? 0, now, BURST_SECONDS)
    this.upBucket = new TokenBucket(checked.uploadLimit ?? 0, now, BURST_SECONDS)
  }

  get limits (): Required<RateLimits> {
    return { downloadLimit: this.downBucket.rate, uploadLimit: this.upBucket.rate }
  }

  set (limits: RateLimits): void {
    const checked = checkRateLimits(limits)
    const now = this.downThrottle.clock.now()
    if (checked.downloadLimit !== undefined) this.downBucket.setRate(checked.downloadLimit, now)
    if (checked.uploadLimit !== undefined) this.upBucket.setRate(checked.uploadLimit, now)
    this.downThrottle.reschedule()
    this.upThrottle.reschedule()
  }

  /** A new torrent's limits, unlimited until set(). */
  torrent (limits: RateLimits = {}): TorrentRates {
    const rates = new TorrentRates(this)
    rates.set(limits)
    return rates
  }
}

/**
 * The limits as rates (Infinity becomes 0, unlimited); a value that is not a number of bytes per
 * second, 0 or more, throws ERR_INVALID_ARG_VALUE naming the option.
 */
export function checkRateLimits (limits: RateLimits): RateLimits {
  const out: RateLimits = {}
  for (const name of ['downloadLimit', 'uploadLimit'] as const) {
    const value: unknown = limits[name]
    if (value === undefined) continue
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      throw new TrackerlessError('ERR_INVALID_ARG_VALUE', `The "${name}" option must be a number of bytes per second, 0 or more (0: unlimited); got ${typeof value === 'number' ? String(value) : typeof value}.`)
    }
    out[name] = value === Infinity ? 0 : value
  }
  return out
}
