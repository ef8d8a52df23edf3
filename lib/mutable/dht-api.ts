import { signedData } from './item.js'

/** What a mutable item looks like coming back from bittorrent-dht's get(). */
export interface DhtItem {
  v: unknown
  seq?: number
  k?: Buffer
  sig?: Buffer
  salt?: Buffer
}

export type Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean

/** The part of a bittorrent-dht node that BEP44 mutable items need. */
export interface MutableDht {
  get (target: Buffer, opts: { salt?: Buffer, cache?: boolean, verify?: Verify }, cb: (err: Error | null, item?: DhtItem | null) => void): void
  put (
    opts: { k: Buffer, v: { ih: Buffer }, seq: number, salt?: Buffer, cas?: number, sign: (message: Buffer) => Buffer },
    cb: (err: Error | null, target: Buffer, responses: number) => void
  ): unknown
}

/** A MutableDht that can tell when it knows a node, as a client waits for before a get or put. */
export interface JoinableDht extends MutableDht {
  readonly nodes: { count (): number }
  once (event: 'node', listener: () => void): unknown
  off (event: 'node', listener: () => void): unknown
}

/**
 * BEP44 and BEP46 over both DHTs (BEP32: an item put over IPv4 lives on IPv4 nodes only): a put
 * goes to every node, and counts as stored where any stored it; a get asks every node and takes
 * the highest seq among the answers whose signature holds (`opts.verify`; an immutable item: the
 * first found).
 */
export function eitherFamily (dhts: readonly JoinableDht[]): JoinableDht {
  const listeners = new Map<() => void, () => void>()
  return {
    nodes: { count: () => dhts.reduce((sum, d) => sum + d.nodes.count(), 0) },
    once (event, listener) {
      const once = (): void => {
        this.off(event, listener)
        listener()
      }
      listeners.set(listener, once)
      for (const d of dhts) d.once(event, once)
    },
    off (event, listener) {
      const once = listeners.get(listener)
      if (once === undefined) return
      listeners.delete(listener)
      for (const d of dhts) d.off(event, once)
    },
    get (target, opts, cb) {
      let waiting = dhts.length
      let best: DhtItem | null = null
      let error: Error | null = null
      for (const d of dhts) {
        d.get(target, opts, (err, item) => {
          if (err !== null) error ??= err
          else if (item != null && isBetter(item, best, opts)) best = item
          if (--waiting === 0) cb(best === null ? error : null, best)
        })
      }
    },
    put (opts, cb) {
      let waiting = dhts.length
      let stored = 0
      let error: Error | null = null
      let key: Buffer | null = null
      for (const d of dhts) {
        d.put(opts, (err, target, responses) => {
          key ??= target
          stored += responses ?? 0
          if (err !== null) error ??= err
          if (--waiting === 0) cb(stored > 0 ? null : error, key, stored)
        })
      }
      return key
    }
  }
}

function isBetter (item: DhtItem, best: DhtItem | null, opts: { salt?: Buffer, verify?: Verify }): boolean {
  if (item.seq === undefined) return best === null
  if (opts.verify !== undefined && (item.sig === undefined || item.k === undefined ||
    !opts.verify(item.sig, signedData({ seq: item.seq, v: item.v, ...(opts.salt !== undefined ? { salt: opts.salt } : {}) }), item.k))) return false
  return best === null || best.seq === undefined || item.seq > best.seq
}
