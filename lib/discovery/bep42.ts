import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { unmapped } from './address.js'

/**
 * BEP42 (DHT security extension): a node id's first 21 bits are tied to the node's IPv4 address,
 * so that one address cannot choose ids next to a target. Our DHT (bittorrent-dht) is IPv4 only,
 * and so is this module: any other address has no valid id and is not exempt.
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

function ipv4Bytes (host: string): number[] | null {
  const v4 = unmapped(host)
  return net.isIPv4(v4) ? v4.split('.').map(Number) : null
}

/** The 32-bit crc whose top 21 bits an id of `ip` with random byte `rand` must start with. */
function idPrefix (ip: number[], rand: number): number {
  const masked = ip.map((b, i) => b & V4_MASK[i]!)
  masked[0]! |= (rand & 0x7) << 5
  return crc32c(Uint8Array.from(masked))
}

/**
 * A BEP42 node id for our external IPv4 address `ip` (null for any other); `random` (20 bytes)
 * fills the bits BEP42 leaves free, its last byte choosing the prefix.
 */
export function bep42NodeId (ip: string, random: Uint8Array = randomBytes(20)): Buffer | null {
  const bytes = ipv4Bytes(ip)
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
  const bytes = ipv4Bytes(ip)
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
