import { createHash } from 'node:crypto'
import bencode from 'bencode'
import { decodeBounded } from '../metainfo/bencode.js'
import { asInfoHash, type InfoHash } from '../util/ids.js'
import { fail } from '../errors.js'

/** BEP44 limits: larger salts and values are refused by nodes, so we refuse them first. */
export const MAX_SALT_BYTES = 64
export const MAX_VALUE_BYTES = 1000

/** The DHT key of a mutable item: SHA-1 of the public key followed by the salt. */
export function targetOf (publicKey: Uint8Array, salt?: Uint8Array): Buffer {
  return createHash('sha1').update(publicKey).update(salt ?? Buffer.alloc(0)).digest()
}

export function checkSalt (salt: Uint8Array | undefined): void {
  if (salt !== undefined && salt.byteLength > MAX_SALT_BYTES) {
    fail('EINVALIDURL', `a salt is at most ${MAX_SALT_BYTES} bytes (BEP44), got ${salt.byteLength}; use a shorter one`)
  }
}

/** The bytes a BEP44 signature covers: the bencoded dict { salt?, seq, v } without its outer 'd' and 'e'. */
export function signedData (item: { seq: number, v: unknown, salt?: Uint8Array }): Buffer {
  const dict = item.salt !== undefined && item.salt.byteLength > 0
    ? { salt: item.salt, seq: item.seq, v: item.v }
    : { seq: item.seq, v: item.v }
  const encoded = bencode.encode(dict as never)
  return Buffer.from(encoded.buffer, encoded.byteOffset + 1, encoded.byteLength - 2)
}

/** BEP46: the item's value is `{ ih: <20-byte infohash> }`. */
export function encodeTorrentPointer (infoHash: InfoHash): Buffer {
  return Buffer.from(bencode.encode({ ih: infoHash }))
}

/**
 * The infohash a BEP46 value points to. `value` is what the DHT returned: bytes of bencode, or
 * already decoded by bittorrent-dht. Anything else is an item we ignore (EBADTORRENT).
 */
export function decodeTorrentPointer (value: unknown): InfoHash {
  let decoded = value
  if (value instanceof Uint8Array) {
    if (value.byteLength > MAX_VALUE_BYTES) fail('EBADTORRENT', `a mutable item's value is over ${MAX_VALUE_BYTES} bytes`)
    decoded = decodeBounded(value, { maxBytes: MAX_VALUE_BYTES, maxDepth: 4, code: 'EBADTORRENT' })
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || ArrayBuffer.isView(decoded)) {
    fail('EBADTORRENT', 'a mutable item\'s value is not a BEP46 dictionary { ih }')
  }
  const ih = Object.hasOwn(decoded, 'ih') ? (decoded as Record<string, unknown>).ih : undefined
  if (!(ih instanceof Uint8Array) || ih.byteLength !== 20) fail('EBADTORRENT', 'a mutable item\'s "ih" is not a 20-byte infohash')
  return asInfoHash(Buffer.from(ih))
}
