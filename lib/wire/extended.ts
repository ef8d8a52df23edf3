import bencode, { type BencodeValue, type EncodableValue } from 'bencode'
import { fail } from '../errors.js'
import type { ExtendedHandshake } from './messages.js'

/** Largest extended handshake accepted; real ones are a few hundred bytes. */
export const MAX_EXTENDED_HANDSHAKE = 64 * 1024
/** Cap on the peer's `reqq`: more outstanding requests than this gain nothing on any link. */
export const MAX_REQQ = 2000
/** BEP9 metadata larger than this is not worth fetching; the field is ignored. */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024
const MAX_CLIENT_NAME = 256
const MAX_DEPTH = 8

export type BencodeDict = { [key: string]: BencodeValue }

/**
 * Decodes the bencoded dictionary at the start of `bytes` and returns it with the offset where it
 * ends (BEP9 puts raw data after it). The bytes are walked first without recursion, bounded in
 * depth, so that the `bencode` package only ever sees well-formed input it cannot loop or
 * overflow the stack on.
 */
export function decodeDict (bytes: Uint8Array, what: string, maxLength: number): { dict: BencodeDict, end: number } {
  const end = wellFormedEnd(bytes, what)
  if (bytes[0] !== 0x64) fail('EPROTO', `the peer's ${what} is not a bencoded dictionary; drop the peer`)
  if (end > maxLength) fail('EPROTO', `the peer's ${what} is ${end} bytes, over the ${maxLength}-byte limit; drop the peer`)
  return { dict: bencode.decode(bytes, 0, end) as BencodeDict, end }
}

const LIST = 0
const DICT_KEY = 1
const DICT_VALUE = 2

/** Offset just past the one bencoded value at the start of `bytes`, or EPROTO. */
function wellFormedEnd (bytes: Uint8Array, what: string): number {
  const bad = (): never => fail('EPROTO', `the peer sent a malformed ${what} (bad bencoding); drop the peer`)
  // One entry per open container: LIST, or a dictionary expecting a key or a value next.
  const open: number[] = []
  const valueRead = (): void => {
    const top = open.length - 1
    if (top >= 0 && open[top] !== LIST) open[top] = open[top] === DICT_KEY ? DICT_VALUE : DICT_KEY
  }
  let i = 0
  do {
    const c = bytes[i]
    const state = open.length > 0 ? open[open.length - 1] : LIST
    if (c === 0x65) { // e
      if (open.length === 0 || state === DICT_VALUE) bad()
      open.pop()
      i++
      valueRead()
    } else if (c !== undefined && c >= 0x30 && c <= 0x39) {
      const colon = digitsEnd(bytes, i, 0x3a, false, bad)
      i = colon + 1 + Number(Buffer.from(bytes.buffer, bytes.byteOffset + i, colon - i).toString('latin1'))
      if (i > bytes.length) bad()
      valueRead()
    } else if (state === DICT_KEY) {
      bad()
    } else if (c === 0x69) { // i
      i = digitsEnd(bytes, i + 1, 0x65, true, bad) + 1
      valueRead()
    } else if (c === 0x64 || c === 0x6c) { // d l
      if (open.length >= MAX_DEPTH) bad()
      open.push(c === 0x64 ? DICT_KEY : LIST)
      i++
    } else {
      bad()
    }
  } while (open.length > 0)
  return i
}

/** Index of `stop` after a run of 1-20 ASCII digits (an optional '-' first when `signed`). */
function digitsEnd (bytes: Uint8Array, start: number, stop: number, signed: boolean, bad: () => never): number {
  let i = start
  if (signed && bytes[i] === 0x2d) i++
  const first = i
  while (i < bytes.length && i - first <= 20) {
    const c = bytes[i]!
    if (c === stop) return i > first ? i : bad()
    if (c < 0x30 || c > 0x39) bad()
    i++
  }
  return bad()
}

export function encodeExtendedHandshake (h: ExtendedHandshake): Buffer {
  const dict: { [key: string]: EncodableValue } = { m: h.m as { [key: string]: number } }
  if (h.v !== undefined) dict.v = h.v
  if (h.reqq !== undefined) dict.reqq = h.reqq
  if (h.metadataSize !== undefined) dict.metadata_size = h.metadataSize
  if (h.p !== undefined) dict.p = h.p
  if (h.yourip !== undefined) dict.yourip = h.yourip
  if (h.uploadOnly !== undefined) dict.upload_only = h.uploadOnly ? 1 : 0
  return Buffer.from(bencode.encode(dict))
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
    for (const [name, id] of Object.entries(m)) {
      if (isInt(id) && id >= 0 && id <= 255) out.m[name] = id
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

function isDict (value: BencodeValue | undefined): value is BencodeDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}
