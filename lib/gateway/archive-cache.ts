import type { Archive } from '../archive/archive.js'
import type { Torrent } from '../client/torrent.js'

export interface ArchiveCacheOptions {
  client: Torrent
  /** ms for a lookup to find peers and metadata. */
  timeout: number
  /** Peers, "host:port", asked for every archive. */
  peers: readonly string[]
  /** Open archives kept once nobody reads them; the least recently used idle one closes first. */
  max: number
  /** Bytes (the archives' lengths together) kept open once nobody reads them; idle archives close, least recently used first, above it. */
  maxBytes: number
}

export interface ArchiveHandle {
  archive: Archive
  /** Call once the response that used the archive is over. */
  release (): void
}

interface Slot {
  archive: Promise<Archive>
  /** The archive's length once its metadata is here. */
  bytes: number
  users: number
  lastUsed: number
}

/**
 * Archives the gateway has opened, by infohash or public key: one lookup however many requests ask at once,
 * kept open between requests so that pieces fetched for one request serve the next.
 */
export class ArchiveCache {
  private readonly opts: ArchiveCacheOptions
  private readonly slots = new Map<string, Slot>()

  constructor (opts: ArchiveCacheOptions) {
    this.opts = opts
  }

  /** The archive `url` opens, shared under `key` (one per infohash or public key). */
  async acquire (key: string, url: string): Promise<ArchiveHandle> {
    let slot = this.slots.get(key)
    if (slot === undefined) {
      const created: Slot = {
        archive: this.opts.client.lookup(url, { timeout: this.opts.timeout, peers: [...this.opts.peers] }),
        bytes: 0,
        users: 0,
        lastUsed: Date.now()
      }
      // A failed lookup is forgotten so the next request tries again.
      created.archive.catch(() => { if (this.slots.get(key) === created) this.slots.delete(key) })
      this.slots.set(key, created)
      slot = created
    }
    const used = slot
    used.users++
    let archive: Archive
    try {
      archive = await used.archive
      used.bytes = archive.length
    } catch (err) {
      used.users--
      throw err
    }
    let released = false
    return {
      archive,
      release: () => {
        if (released) return
        released = true
        used.users--
        used.lastUsed = Date.now()
        this.evict()
      }
    }
  }

  /** True when `key` is open or being looked up: a request for it starts nothing new. */
  has (key: string): boolean {
    return this.slots.has(key)
  }

  /** Closes every archive it opened. */
  async close (): Promise<void> {
    const slots = [...this.slots.values()]
    this.slots.clear()
    await Promise.all(slots.map((s) => s.archive.then((a) => a.close(), () => undefined)))
  }

  private bytes (): number {
    let sum = 0
    for (const slot of this.slots.values()) sum += slot.bytes
    return sum
  }

  private evict (): void {
    while (this.slots.size > this.opts.max || this.bytes() > this.opts.maxBytes) {
      let oldest: [string, Slot] | null = null
      for (const entry of this.slots) {
        if (entry[1].users === 0 && (oldest === null || entry[1].lastUsed < oldest[1].lastUsed)) oldest = entry
      }
      if (oldest === null) return
      this.slots.delete(oldest[0])
      oldest[1].archive.then((a) => a.close(), () => undefined).catch(() => undefined)
    }
  }
}
