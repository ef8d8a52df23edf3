import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { unmapped } from './address.js'
import { ipToBytes } from '../wire/compact-ip.js'

/**
 * BEP42 (DHT security extension): a node id's first 21 bits are tied to the node's address, so
 * that one address cannot choose ids next to a target: an IPv4 address, or the first 8 bytes (the
 * /64) of an IPv6 one. The exempt ranges here are IPv4's; the IPv6 node's guard exempts its own
 * (dht-family.ts isSharedAddress).
 */

// CRC32C (Castagnoli), the checksum BEP42 names. Node's zlib has only plain CRC32, and this
// table is all that a dependency would add.
const CASTAGNOLI = 0x82f63b78
const TABLE = new Uint32Array(256).map((_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ CASTAGNOLI : c >>> 1
  return c >>> 0
})

export function crc32c (bytes: Uint8Array): number {
  let c = 0xffffffff
  for (const b of bytes) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff]
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff]

function ipv4Bytes (host: string): number[] | null {
  const v4 = unmapped(host)
  return net.isIPv4(v4) ? v4.split('.').map(Number) : null
}

/** The bytes BEP42 hashes, already masked: all 4 of an IPv4 address, the first 8 of an IPv6 one. */
function maskedBytes (host: string): number[] | null {
  const v4 = ipv4Bytes(host)
  if (v4 !== null) return v4.map((b, i) => b & V4_MASK[i]!)
  const v6 = net.isIPv6(host) ? ipToBytes(host) : null
  return v6 === null || v6.length !== 16 ? null : Array.from(v6.subarray(0, 8), (b, i) => b & V6_MASK[i]!)
}

/** The 32-bit crc whose top 21 bits an id of `ip` with random byte `rand` must start with. */
function idPrefix (masked: number[], rand: number): number {
  masked = [...masked]
  masked[0]! |= (rand & 0x7) << 5
  return crc32c(Uint8Array.from(masked))
}

/**
 * A BEP42 node id for our external address `ip` (null for anything not an IP); `random` (20 bytes)
 * fills the bits BEP42 leaves free, its last byte choosing the prefix.
 */
export function bep42NodeId (ip: string, random: Uint8Array = randomBytes(20)): Buffer | null {
  const bytes = maskedBytes(ip)
  if (bytes === null || random.length < 20) return null
  const id = Buffer.from(random.subarray(0, 20))
  const crc = idPrefix(bytes, id[19]!)
  id[0] = crc >>> 24
  id[1] = (crc >>> 16) & 0xff
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x7)
  return id
}

/** Whether `id` is a valid BEP42 id for a node at `ip` (its last byte is the random part). */
export function isBep42Valid (ip: string, id: Uint8Array): boolean {
  const bytes = maskedBytes(ip)
  if (bytes === null || id.length !== 20) return false
  const crc = idPrefix(bytes, id[19]!)
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8)
}

/**
 * The addresses BEP42 exempts (a node there may have any id): 10/8, 172.16/12, 192.168/16,
 * 169.254/16 and 127/8; on a LAN every node shares its public address.
 */
export function isBep42Exempt (host: string): boolean {
  const b = ipv4Bytes(host)
  if (b === null) return false
  const [a, c] = [b[0]!, b[1]!]
  return a === 10 || a === 127 || (a === 172 && (c & 0xf0) === 16) || (a === 192 && c === 168) || (a === 169 && c === 254)
}
