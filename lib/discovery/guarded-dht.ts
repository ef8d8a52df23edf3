import type DHT from 'bittorrent-dht'
import type { DhtInternals, DhtOptions } from 'bittorrent-dht'
import { DhtGuard, type DhtGuardOptions } from './dht-guard.js'
import { DhtIdentity } from './dht-identity.js'
import { SplitValueStore } from './dht-store.js'
import { familySocket, isSharedAddress, type DhtFamily } from './dht-family.js'

export interface GuardedDhtOptions extends DhtGuardOptions {
  /** BEP44 items kept of each kind (defaults: dht-store.ts). */
  store?: { mutable?: number, immutable?: number }
}

/**
 * A bittorrent-dht node made fit for the open internet without changing the library: its UDP
 * socket behind a per-address rate limit (k-rpc-socket's `socket` option), its routing table
 * behind the admission rule, its BEP44 store split by kind, and its id kept BEP42-valid. An IPv6
 * node (BEP32) follows BEP42's IPv6 rule, with the IPv6 ranges of isSharedAddress exempt.
 */
export function guardedDht (DhtNode: typeof DHT, options: DhtOptions, opts: GuardedDhtOptions = {}, family: DhtFamily = 4): { dht: DHT, guard: DhtGuard, identity: DhtIdentity } {
  const guard = new DhtGuard(family === 6 ? { exempt: isSharedAddress, ...opts } : opts)
  const socket = guard.socket(options.socket ?? familySocket(family), (buf, from) => { identity.observe(buf, from) })
  const dht = new DhtNode({ ...options, family, socket })
  guard.watch(dht.nodes)
  // bittorrent-dht takes no store of ours: its `_values` is replaced before it holds anything.
  ;(dht as unknown as DhtInternals)._values = new SplitValueStore(opts.store)
  // Set before the socket can hear anything: it binds in listen(), later.
  const identity = new DhtIdentity(dht, (table) => guard.watch(table), family)
  return { dht, guard, identity }
}
