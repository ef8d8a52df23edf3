/**
 * The read cache of uploads: windows of pieces (a whole piece up to WINDOW bytes, else WINDOW-sized
 * slices of it) kept so that the many 16 KiB block requests of one window cost one disk read.
 *
 * One byte budget (ReadBudget) is shared by every torrent of the process. It counts windows being
 * read, windows cached, and dropped windows whose buffer a socket may still be sending. When it is
 * full of reads in flight and of buffers not yet sent, nothing more is cached: the caller reads only
 * the block it needs. So however many peers ask for however many pieces, the cache holds at most
 * the budget. (A storage that allocates its own read buffers, such as random-access-memory, leaves
 * the spare buffers handed to it unused: TorrentStorage keeps at most four of those.)
 */

/** Largest window read at once: a 16 MiB piece is never read whole for a 16 KiB block. A whole
 *  MiB keeps a sequential upload at one disk read per 64 blocks, as with 1 MiB pieces. */
export const WINDOW = 1024 * 1024
/** Default budget of the process-wide cache (README, "Memory is bounded"). More cost a swarm's
 *  downloaders memory and CPU for no more throughput (bench/README.md, 2026-12-04). */
export const DEFAULT_READ_BUDGET = 16 * 1024 * 1024

/** One window: being read (`data` null) or cached. */
export interface Slot {
  readonly key: number
  readonly size: number
  readonly loading: Promise<Buffer>
  data: Buffer | null
  /** read() handed a view out that its caller may keep: the buffer is never reused. */
  lent: boolean
  /** Out of its cache (evicted, invalidated, closed); still counted until its read settles. */
  dropped: boolean
  readonly owner: WindowCache
}

/** A buffer of a dropped window, counted until it is reused or found free and released. */
interface Parked { readonly buffer: Buffer, readonly free: () => boolean }

/** The process-wide (or, for tests, private) budget of all window caches. */
export class ReadBudget {
  readonly bytes: number
  /** Bytes of live slots (reading or cached) and of parked buffers. */
  private used = 0
  /** Cached slots of every torrent, least recently used first. */
  private readonly lru = new Set<Slot>()
  private newest: Slot | null = null
  private readonly parked: Parked[] = []

  constructor (bytes: number) {
    this.bytes = Math.max(0, Math.floor(bytes))
  }

  /** Bytes counted now; at most `bytes`. */
  get usedBytes (): number {
    return this.used
  }

  /**
   * Room for a window of `size` bytes: the oldest cached windows are evicted, free parked buffers
   * released. Returns a free parked buffer of that size when one can be read into again, true when
   * there is room for a new one, false when the budget is all in reads in flight and buffers still
   * being sent.
   */
  reserve (size: number): Buffer | boolean {
    for (;;) {
      if (this.used + size <= this.bytes) {
        this.used += size
        return true
      }
      const i = this.parked.findIndex((p) => p.free())
      if (i !== -1) {
        const [{ buffer }] = this.parked.splice(i, 1) as [Parked]
        if (buffer.length === size) return buffer
        this.used -= buffer.length
        continue
      }
      const oldest = this.lru.values().next()
      if (oldest.done === true) return false
      oldest.value.owner.drop(oldest.value)
    }
  }

  /** Gives back what a slot counted; its buffer is kept for reuse once `free()` says nothing reads it. */
  release (slot: Slot, free: (() => boolean) | null): void {
    this.forget(slot)
    if (slot.data !== null && !slot.lent && free !== null) this.parked.push({ buffer: slot.data, free })
    else this.used -= slot.size
  }

  loaded (slot: Slot): void {
    this.lru.add(slot)
    this.newest = slot
  }

  /** Makes `slot` the most recently used. */
  touch (slot: Slot): void {
    if (slot === this.newest) return
    this.lru.delete(slot)
    this.lru.add(slot)
    this.newest = slot
  }

  private forget (slot: Slot): void {
    this.lru.delete(slot)
    if (this.newest === slot) this.newest = null
  }
}

let shared: ReadBudget | null = null

/** The budget every torrent of this process shares unless given its own. */
export function sharedReadBudget (): ReadBudget {
  shared ??= new ReadBudget(DEFAULT_READ_BUDGET)
  return shared
}

export interface WindowCacheOptions {
  budget: ReadBudget
  pieceLength: number
  /** Reads `length` bytes at `begin` of piece `index`; `spare`, when given, is a free buffer of
   *  `length` bytes the read may fill instead of allocating one. */
  read: (index: number, begin: number, length: number, spare: Buffer | null) => Promise<Buffer>
  /** See TorrentStorageOptions.reuseWhen. */
  reuseWhen: (() => () => boolean) | null
}

/** One torrent's windows, within the shared budget. */
export class WindowCache {
  readonly window: number
  private readonly budget: ReadBudget
  private readonly perPiece: number
  private readonly readWindow: WindowCacheOptions['read']
  private readonly reuseWhen: (() => () => boolean) | null
  private readonly slots = new Map<number, Slot>()

  constructor (opts: WindowCacheOptions) {
    this.budget = opts.budget
    this.window = Math.min(opts.pieceLength, WINDOW)
    this.perPiece = Math.ceil(opts.pieceLength / this.window)
    this.readWindow = opts.read
    this.reuseWhen = opts.reuseWhen
  }

  /** Start of the window holding byte `begin` of a piece. */
  windowStart (begin: number): number {
    return begin - begin % this.window
  }

  /**
   * The slot holding [begin, begin+length) of piece `index` (of `pieceSize` bytes), read now if it
   * is not cached; null when the range crosses windows or the budget has no room: read it directly.
   */
  slot (index: number, begin: number, length: number, pieceSize: number): Slot | null {
    const start = this.windowStart(begin)
    if (begin + length > start + this.window) return null
    const key = index * this.perPiece + start / this.window
    const hit = this.slots.get(key)
    if (hit !== undefined) {
      if (hit.data !== null) this.budget.touch(hit)
      return hit
    }
    const size = Math.min(this.window, pieceSize - start)
    const room = this.budget.reserve(size)
    if (room === false) return null
    const loading = this.readWindow(index, start, size, room === true ? null : room)
    const slot: Slot = { key, size, loading, data: null, lent: false, dropped: false, owner: this }
    this.slots.set(key, slot)
    loading.then((data) => {
      slot.data = data
      if (slot.dropped) this.budget.release(slot, null)
      else this.budget.loaded(slot)
    }, () => {
      if (this.slots.get(key) === slot) this.slots.delete(key)
      if (!slot.dropped) slot.dropped = true
      this.budget.release(slot, null)
    })
    return slot
  }

  /** The cached bytes [begin, begin+length) of piece `index`, or null when not cached (yet). */
  cached (index: number, begin: number, length: number): Buffer | null {
    const start = this.windowStart(begin)
    if (begin + length > start + this.window) return null
    const slot = this.slots.get(index * this.perPiece + start / this.window)
    if (slot === undefined || slot.data === null) return null
    this.budget.touch(slot)
    return rangeOf(slot.data, begin - start, length)
  }

  /** Drops piece `index`'s windows: a write must not be answered from what was there before. */
  invalidate (index: number): void {
    for (let w = 0; w < this.perPiece; w++) {
      const slot = this.slots.get(index * this.perPiece + w)
      if (slot !== undefined) this.drop(slot)
    }
  }

  clear (): void {
    for (const slot of [...this.slots.values()]) this.drop(slot)
  }

  /** Removes `slot`; a read in flight is released when it settles, never abandoned while counted. */
  drop (slot: Slot): void {
    if (slot.dropped) return
    slot.dropped = true
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key)
    if (slot.data !== null) this.budget.release(slot, this.reuseWhen?.() ?? null)
  }
}

/** Bytes [begin, begin+length) of a buffer: the buffer itself when that is all of it. */
export function rangeOf (buf: Buffer, begin: number, length: number): Buffer {
  return begin === 0 && length === buf.length ? buf : buf.subarray(begin, begin + length)
}
