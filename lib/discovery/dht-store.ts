import type { DhtValue, DhtValueStore } from 'bittorrent-dht'

/** Items of each kind a node keeps: bittorrent-dht's default was 1,000 of both together. */
export const MUTABLE_ITEMS = 500
export const IMMUTABLE_ITEMS = 500

/** A map that forgets its least recently used key past `max`. */
class Lru<V> {
  readonly map = new Map<string, V>()
  constructor (private readonly max: number) {}

  get (key: string): V | undefined {
    const value = this.map.get(key)
    if (value !== undefined) {
      this.map.delete(key)
      this.map.set(key, value)
    }
    return value
  }

  set (key: string, value: V): void {
    this.map.delete(key)
    this.map.set(key, value)
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value!)
  }

  delete (key: string): void {
    this.map.delete(key)
  }
}

/**
 * The BEP44 store of our DHT node, in place of bittorrent-dht's single LRU: immutable items are
 * free to make (any bytes under 1,000), so they have their own budget and a flood of them
 * evicts only other immutable items, never a signed mutable one.
 */
export class SplitValueStore implements DhtValueStore {
  private readonly mutable: Lru<DhtValue>
  private readonly immutable: Lru<DhtValue>

  constructor (budget: { mutable?: number, immutable?: number } = {}) {
    this.mutable = new Lru(budget.mutable ?? MUTABLE_ITEMS)
    this.immutable = new Lru(budget.immutable ?? IMMUTABLE_ITEMS)
  }

  get (key: string): DhtValue | undefined {
    return this.mutable.get(key) ?? this.immutable.get(key)
  }

  set (key: string, value: DhtValue): void {
    const mutable = value.k !== undefined
    ;(mutable ? this.immutable : this.mutable).delete(key)
    ;(mutable ? this.mutable : this.immutable).set(key, value)
  }

  get size (): { mutable: number, immutable: number } {
    return { mutable: this.mutable.map.size, immutable: this.immutable.map.size }
  }

  /** What bittorrent-dht's toJSON() reads: every item by key. */
  get cache (): Record<string, { value: DhtValue }> {
    const all: Record<string, { value: DhtValue }> = {}
    for (const lru of [this.immutable, this.mutable]) for (const [key, value] of lru.map) all[key] = { value }
    return all
  }
}
