import { verify, loadEd25519 } from './keys.js'
import { targetOf, checkSalt, decodeTorrentPointer, signedData } from './item.js'
import type { DhtItem, MutableDht } from './dht-api.js'
import type { InfoHash } from '../util/ids.js'
import { fail } from '../errors.js'

export interface Resolved { seq: number, infoHash: InfoHash }

/**
 * Asks the network (never a local cache) for the item under `publicKey` and `salt`, and returns
 * the highest seq among answers whose signatures hold, as a BEP46 pointer. With no valid answer:
 * EBADSIG when someone answered with a bad signature, else null (nobody has it). A genuine item
 * whose value is not { ih } (another client's, e.g. libtorrent's string items) is EBADTORRENT.
 */
export async function resolveMutable (dht: MutableDht, publicKey: Buffer, salt?: Buffer): Promise<Resolved | null> {
  const item = await resolveItem(dht, publicKey, salt)
  return item === null ? null : { seq: item.seq, infoHash: decodeTorrentPointer(item.v) }
}

/** Like resolveMutable, whatever the value is: the newest genuine seq and its value. */
export async function resolveItem (dht: MutableDht, publicKey: Buffer, salt?: Buffer): Promise<{ seq: number, v: unknown } | null> {
  checkSalt(salt)
  await loadEd25519()
  let forged = false
  const check = (signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean => {
    const ok = verify(signature, message, key)
    if (!ok) forged = true
    return ok
  }
  const item = await new Promise<DhtItem | null | undefined>((resolve, reject) => {
    const opts = { ...(salt !== undefined ? { salt } : {}), cache: false, verify: check }
    dht.get(targetOf(publicKey, salt), opts, (err, found) => { if (err !== null) reject(err); else resolve(found) })
  })
  if (item === null || item === undefined) {
    if (forged) fail('EBADSIG', 'the only answers for this key had bad signatures; the link may be forged, or ask its publisher to publish again')
    return null
  }
  // bittorrent-dht starts from the item its own node stores, unverified even with cache: false,
  // so the answer is checked again here.
  if (!isGenuine(item, publicKey, salt)) fail('EBADSIG', 'the newest answer for this key has a bad signature; the link may be forged, or ask its publisher to publish again')
  return { seq: item.seq, v: item.v }
}

function isGenuine (item: DhtItem, publicKey: Buffer, salt?: Buffer): item is DhtItem & { seq: number, sig: Buffer } {
  if (typeof item.seq !== 'number' || !Number.isSafeInteger(item.seq) || item.seq < 0 || item.sig === undefined) return false
  if (item.k !== undefined && !Buffer.from(item.k).equals(publicKey)) return false
  return verify(item.sig, signedData({ seq: item.seq, v: item.v, ...(salt !== undefined ? { salt } : {}) }), publicKey)
}
