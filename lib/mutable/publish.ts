import { sign, checkKeypair, loadEd25519 } from './keys.js'
import { checkSalt } from './item.js'
import { resolveItem } from './resolve.js'
import type { MutableDht } from './dht-api.js'
import type { InfoHash } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'

export interface PublishInput {
  publicKey: Buffer
  privateKey: Buffer
  salt?: Buffer
  infoHash: InfoHash
}

/** What was put, kept to put again before DHT nodes forget it. */
export interface Published extends PublishInput { seq: number }

/**
 * BEP46 put: reads the highest seq the network has, then puts `{ ih }` at the next seq with `cas`
 * set to the one read, so two publishers racing do not silently overwrite each other. Any genuine
 * item counts, not only a BEP46 one: nodes refuse a seq below the one they hold, whatever it held.
 */
export async function publishMutable (dht: MutableDht, input: PublishInput): Promise<Published> {
  await loadEd25519()
  checkKeypair(input.publicKey, input.privateKey)
  checkSalt(input.salt)
  const current = await resolveItem(dht, input.publicKey, input.salt).catch(() => null)
  const item: Published = { ...input, seq: current === null ? 1 : current.seq + 1 }
  const { stored, err } = await put(dht, item, current?.seq)
  if (stored === 0) throw new TrackerlessError('ETIMEDOUT', `no DHT node stored the item${err !== null ? ` (${err.message})` : ''}; check that the client reaches DHT nodes (bootstrap list) and publish again`)
  return item
}

/**
 * Puts the item again as it is (same seq, same signed data) so that nodes which dropped it, or
 * joined since, hold it; nodes that still have it refuse the equal seq, which is fine.
 */
export async function republish (dht: MutableDht, item: Published): Promise<void> {
  await put(dht, item)
}

/** How many nodes accepted the put; bittorrent-dht also reports the last refusal, e.g. a node
 *  that already holds this seq. */
function put (dht: MutableDht, item: Published, cas?: number): Promise<{ stored: number, err: Error | null }> {
  return new Promise((resolve) => {
    dht.put({
      k: item.publicKey,
      v: { ih: item.infoHash },
      seq: item.seq,
      ...(item.salt !== undefined ? { salt: item.salt } : {}),
      ...(cas !== undefined ? { cas } : {}),
      sign: (message) => sign(message, item.privateKey)
    }, (err, _target, stored) => resolve({ stored: stored ?? 0, err }))
  })
}
