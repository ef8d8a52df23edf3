import bencode, { type BencodeValue, type EncodableValue } from 'bencode'
import { decodePrefix, isDict, type BencodeDict } from '../metainfo/bencode.js'
import { fail } from '../errors.js'
import type { ExtendedHandshake } from './messages.js'
import { ipFromBytes, ipToCompact } from './compact-ip.js'

/** Largest extended handshake accepted; real ones are a few hundred bytes. */
export const MAX_EXTENDED_HANDSHAKE = 64 * 1024
/** Cap on the peer's `reqq`: more outstanding requests than this gain nothing on any link. */
export const MAX_REQQ = 2000
/** BEP9 metadata larger than this is not worth fetching; the field is ignored. */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024
const MAX_CLIENT_NAME = 256
/** Extensions remembered per peer: real clients name a dozen; a peer naming more only costs us memory. */
export const MAX_EXTENSION_NAMES = 64
const MAX_DEPTH = 8

export type { BencodeDict }

/**
 * Decodes the bencoded dictionary at the start of `bytes` and returns it with the offset where it
 * ends (BEP9 puts raw data after it); bounded in size and depth before any recursion.
 */
export function decodeDict (bytes: Uint8Array, what: string, maxLength: number): { dict: BencodeDict, end: number } {
  const { value, end } = decodePrefix(bytes, { maxBytes: maxLength, maxDepth: MAX_DEPTH, code: 'EPROTO' })
  if (!isDict(value)) fail('EPROTO', `the peer's ${what} is not a bencoded dictionary; drop the peer`)
  return { dict: value, end }
}

export function encodeExtendedHandshake (h: ExtendedHandshake): Buffer {
  const dict: { [key: string]: EncodableValue } = { m: h.m as { [key: string]: number } }
  if (h.v !== undefined) dict.v = h.v
  if (h.reqq !== undefined) dict.reqq = h.reqq
  if (h.metadataSize !== undefined) dict.metadata_size = h.metadataSize
  if (h.p !== undefined) dict.p = h.p
  if (h.yourip !== undefined) dict.yourip = h.yourip
  if (h.ipv6 !== undefined) dict.ipv6 = h.ipv6
  if (h.ipv4 !== undefined) dict.ipv4 = h.ipv4
  if (h.uploadOnly !== undefined) dict.upload_only = h.uploadOnly ? 1 : 0
  return Buffer.from(bencode.encode(dict))
}

/**
 * BEP10's `yourip` for a peer at `remoteAddress`: 4 bytes for an IPv4 peer (also one a dual-stack
 * socket reports IPv4-mapped), 16 for an IPv6 one; nothing when the address is unknown.
 */
export function youripField (remoteAddress: string | undefined): { yourip?: Buffer } {
  const bytes = remoteAddress === undefined ? null : ipToCompact(remoteAddress)
  return bytes === null ? {} : { yourip: bytes }
}

/**
 * BEP7's `ipv6` for a peer at `remoteAddress`: our global IPv6 address `own`, told to a peer
 * that reached us over IPv4 (over IPv6 it has one already); nothing otherwise.
 */
export function ipv6Field (remoteAddress: string | undefined, own: string | null | undefined): { ipv6?: Buffer } {
  const theirs = remoteAddress === undefined ? null : ipToCompact(remoteAddress)
  const ours = own == null ? null : ipToCompact(own)
  return theirs?.length === 4 && ours?.length === 16 ? { ipv6: ours } : {}
}

/**
 * The address ("[v6]:port") at which a peer that reached us over IPv4 says it also listens (its
 * BEP7 `ipv6` with its `p`), if global unicast (2000::/3): a hint to dial, as PEX gives; null
 * for none, or anything else.
 */
export function ipv6Hint (h: ExtendedHandshake | null | undefined, remoteAddress: string | undefined): string | null {
  if (h?.ipv6?.length !== 16 || h.p === undefined || remoteAddress === undefined || ipToCompact(remoteAddress)?.length !== 4) return null
  if ((h.ipv6[0]! & 0xe0) !== 0x20) return null
  return `[${ipFromBytes(h.ipv6, 0, 16)}]:${h.p}`
}

/**
 * Decodes a BEP10 handshake. Malformed bencoding is EPROTO; a field out of range is dropped
 * (and `reqq` is capped) rather than failing the connection, since clients disagree on details.
 */
export function decodeExtendedHandshake (payload: Buffer): ExtendedHandshake {
  const { dict } = decodeDict(payload, 'extended handshake', MAX_EXTENDED_HANDSHAKE)
  const out: ExtendedHandshake = { m: {} }
  const m = field(dict, 'm')
  if (isDict(m)) {
    let names = 0
    for (const [name, id] of Object.entries(m)) {
      if (names === MAX_EXTENSION_NAMES) break
      if (isInt(id) && id >= 0 && id <= 255 && name.length <= MAX_CLIENT_NAME) {
        out.m[name] = id
        names++
      }
    }
  }
  const v = field(dict, 'v')
  if (v instanceof Uint8Array && v.length <= MAX_CLIENT_NAME) out.v = Buffer.from(v).toString('utf8')
  const reqq = field(dict, 'reqq')
  if (isInt(reqq) && reqq >= 1) out.reqq = Math.min(reqq, MAX_REQQ)
  const size = field(dict, 'metadata_size')
  if (isInt(size) && size >= 1 && size <= MAX_METADATA_SIZE) out.metadataSize = size
  const p = field(dict, 'p')
  if (isInt(p) && p >= 1 && p <= 65535) out.p = p
  const yourip = field(dict, 'yourip')
  if (yourip instanceof Uint8Array && (yourip.length === 4 || yourip.length === 16)) out.yourip = Buffer.from(yourip)
  const ipv6 = field(dict, 'ipv6')
  if (ipv6 instanceof Uint8Array && ipv6.length === 16) out.ipv6 = Buffer.from(ipv6)
  const ipv4 = field(dict, 'ipv4')
  if (ipv4 instanceof Uint8Array && ipv4.length === 4) out.ipv4 = Buffer.from(ipv4)
  const uploadOnly = field(dict, 'upload_only')
  if (isInt(uploadOnly)) out.uploadOnly = uploadOnly !== 0
  return out
}

/** Own keys only: a peer's "__proto__" key must not reach us through the prototype chain. */
export function field (dict: BencodeDict, key: string): BencodeValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined
}

export function isInt (value: BencodeValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value)
}
