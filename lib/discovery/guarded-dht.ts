import dgram from 'node:dgram'
import type DHT from 'bittorrent-dht'
import type { DhtInternals, DhtOptions } from 'bittorrent-dht'
import { DhtGuard, type DhtGuardOptions } from './dht-guard.js'
import { DhtIdentity } from './dht-identity.js'
import { SplitValueStore } from './dht-store.js'

export interface GuardedDhtOptions extends DhtGuardOptions {
  /** BEP44 items kept of each kind (defaults: dht-store.ts). */
  store?: { mutable?: number, immutable?: number }
}

/**
 * A bittorrent-dht node made fit for the open internet without changing the library: its UDP
 * socket behind a per-address rate limit (k-rpc-socket's `socket` option), its routing table
 * behind the admission rule, its BEP44 store split by kind, and its id kept BEP42-valid.
 */
export function guardedDht (DhtNode: typeof DHT, options: DhtOptions, opts: GuardedDhtOptions = {}): { dht: DHT, guard: DhtGuard, identity: DhtIdentity } {
  const guard = new DhtGuard(opts)
  let identity: DhtIdentity | null = null
  const socket = guard.socket(options.socket ?? dgram.createSocket('udp4'), (buf, from) => identity?.observe(buf, from))
  const dht = new DhtNode({ ...options, socket })
  guard.watch(dht.nodes)
  // bittorrent-dht takes no store of ours: its `_values` is replaced before it holds anything.
  ;(dht as unknown as DhtInternals)._values = new SplitValueStore(opts.store)
  identity = new DhtIdentity(dht, (table) => guard.watch(table))
  return { dht, guard, identity }
}
