import bencode from 'bencode'
import type { BencodeValue } from 'bencode'
import { fail } from '../errors.js'

export type { BencodeValue }
export type BencodeDict = { [key: string]: BencodeValue }

/** EBADTORRENT for metainfo, EPROTO for bytes from a peer. */
export type BencodeErrorCode = 'EBADTORRENT' | 'EPROTO'

export interface DecodeLimits {
  maxBytes: number
  /** Nesting of lists and dictionaries; the top-level value is depth 1. */
  maxDepth: number
  code: BencodeErrorCode
}

export interface ByteSpan {
  start: number
  /** Exclusive. */
  end: number
}

const CH_I = 0x69
const CH_L = 0x6c
const CH_D = 0x64
const CH_E = 0x65
const CH_COLON = 0x3a
const CH_MINUS = 0x2d
const CH_0 = 0x30
const CH_9 = 0x39
/** More digits than this cannot be a string length that fits in memory. */
const MAX_LENGTH_DIGITS = 15

interface Frame {
  dict: boolean
  expectKey: boolean
  /** Key spans as [start, end, start, end, ...], kept to reject duplicate keys in unsorted dicts. */
  keys: number[]
  sorted: boolean
}

function view (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Parses the digits in [start, end) as a non-negative decimal with no leading zero. */
function readDigits (buf: Buffer, start: number, end: number, code: BencodeErrorCode): number {
  if (end === start) fail(code, `bencode: expected digits at byte ${start}`)
  if (buf[start] === CH_0 && end - start > 1) fail(code, `bencode: number with a leading zero at byte ${start}`)
  let n = 0
  for (let i = start; i < end; i++) {
    const c = buf[i]!
    if (c < CH_0 || c > CH_9) fail(code, `bencode: unexpected byte 0x${c.toString(16)} in a number at byte ${i}`)
    n = n * 10 + (c - CH_0)
  }
  return n
}

/** Index of `ch` at or after `from`, or fails: bencode has no value that runs to the end. */
function find (buf: Buffer, ch: number, from: number, limit: number, code: BencodeErrorCode): number {
  const at = buf.indexOf(ch, from)
  if (at === -1 || at > limit) fail(code, `bencode: truncated or malformed value at byte ${from}`)
  return at
}

/** Returns the end of the string starting at `pos` and puts the span of its bytes in `out`. */
export function scanString (buf: Buffer, pos: number, code: BencodeErrorCode, out: ByteSpan): number {
  const colon = find(buf, CH_COLON, pos, pos + MAX_LENGTH_DIGITS, code)
  const length = readDigits(buf, pos, colon, code)
  const start = colon + 1
  if (length > buf.length - start) fail(code, `bencode: string at byte ${pos} runs past the end of the data`)
  out.start = start
  out.end = start + length
  return out.end
}

function scanInt (buf: Buffer, pos: number, code: BencodeErrorCode): number {
  const end = find(buf, CH_E, pos + 1, buf.length, code)
  const negative = buf[pos + 1] === CH_MINUS
  const digitsStart = negative ? pos + 2 : pos + 1
  const value = readDigits(buf, digitsStart, end, code)
  if (negative && value === 0) fail(code, `bencode: negative zero at byte ${pos}`)
  return end + 1
}

const PROTO_KEY = Buffer.from('__proto__')

function checkKey (buf: Buffer, frame: Frame, key: ByteSpan, code: BencodeErrorCode): void {
  // The decoder assigns keys to plain objects, where "__proto__" would replace the prototype.
  if (key.end - key.start === PROTO_KEY.length && buf.compare(PROTO_KEY, 0, PROTO_KEY.length, key.start, key.end) === 0) {
    fail(code, `bencode: forbidden dictionary key "__proto__" at byte ${key.start}`)
  }
  const keys = frame.keys
  const n = keys.length
  if (n > 0 && frame.sorted) {
    const order = buf.compare(buf, keys[n - 2]!, keys[n - 1]!, key.start, key.end)
    if (order === 0) fail(code, `bencode: duplicate dictionary key at byte ${key.start}`)
    if (order < 0) frame.sorted = false
  }
  if (!frame.sorted) {
    for (let i = 0; i < n; i += 2) {
      if (buf.compare(buf, keys[i]!, keys[i + 1]!, key.start, key.end) === 0) {
        fail(code, `bencode: duplicate dictionary key at byte ${key.start}`)
      }
    }
  }
  keys.push(key.start, key.end)
}

/**
 * Validates the bencoded value starting at `start` without recursion and returns where it ends.
 * Strict BEP3 grammar (no leading zeros, no "-0", string keys, no duplicate or "__proto__" keys) so that the
 * lenient decoder behind it never sees input it could loop on or misread; key order is not
 * enforced because real torrents are not always canonical.
 */
export function scanValue (bytes: Uint8Array, start: number, maxDepth: number, code: BencodeErrorCode): number {
  const buf = view(bytes)
  const frames: Frame[] = []
  const span: ByteSpan = { start: 0, end: 0 }
  let pos = start
  while (true) {
    if (pos >= buf.length) fail(code, 'bencode: data ends in the middle of a value')
    const c = buf[pos]!
    const top = frames[frames.length - 1]
    if (top !== undefined && c === CH_E && (!top.dict || top.expectKey)) {
      frames.pop()
      pos++
    } else if (top !== undefined && top.dict && top.expectKey) {
      if (c < CH_0 || c > CH_9) fail(code, `bencode: dictionary key at byte ${pos} is not a string`)
      pos = scanString(buf, pos, code, span)
      checkKey(buf, top, span, code)
      top.expectKey = false
      continue
    } else if (c === CH_L || c === CH_D) {
      if (frames.length >= maxDepth) fail(code, `bencode: nested deeper than ${maxDepth} levels`)
      frames.push({ dict: c === CH_D, expectKey: true, keys: [], sorted: true })
      pos++
      continue
    } else if (c === CH_I) {
      pos = scanInt(buf, pos, code)
    } else if (c >= CH_0 && c <= CH_9) {
      pos = scanString(buf, pos, code, span)
    } else {
      fail(code, `bencode: unexpected byte 0x${c.toString(16)} at byte ${pos}`)
    }
    const parent = frames[frames.length - 1]
    if (parent === undefined) return pos
    if (parent.dict) parent.expectKey = true
  }
}

function checkSize (bytes: Uint8Array, limits: DecodeLimits): void {
  if (bytes.byteLength > limits.maxBytes) {
    fail(limits.code, `bencode: ${bytes.byteLength} bytes is over the limit of ${limits.maxBytes}`)
  }
}

function runDecoder (bytes: Uint8Array, end: number, code: BencodeErrorCode): BencodeValue {
  try {
    return bencode.decode(bytes, 0, end)
  } catch (err) {
    return fail(code, `bencode: cannot decode: ${(err as Error).message}`, err)
  }
}

/** Decodes untrusted bytes that must hold exactly one bencoded value. */
export function decodeBounded (bytes: Uint8Array, limits: DecodeLimits): BencodeValue {
  checkSize(bytes, limits)
  const end = scanValue(bytes, 0, limits.maxDepth, limits.code)
  if (end !== bytes.byteLength) fail(limits.code, `bencode: ${bytes.byteLength - end} unexpected bytes after the value`)
  return runDecoder(bytes, end, limits.code)
}

/** Decodes one bencoded value at the start of `bytes` and says where it ends (BEP9 data messages
 *  carry raw bytes after the dictionary). */
export function decodePrefix (bytes: Uint8Array, limits: DecodeLimits): { value: BencodeValue, end: number } {
  // Scanning only the allowed prefix keeps a huge buffer from costing more than the limit.
  const end = scanValue(bytes.subarray(0, limits.maxBytes), 0, limits.maxDepth, limits.code)
  return { value: runDecoder(bytes, end, limits.code), end }
}

/**
 * The exact bytes of the value of `key` in the top-level dictionary, or undefined when the key is
 * absent. Hashing these bytes, not a re-encoding, is what makes an infohash match the original.
 */
export function findDictValueSpan (
  bytes: Uint8Array,
  key: string,
  limits: { maxDepth: number, code: BencodeErrorCode } = { maxDepth: 64, code: 'EBADTORRENT' }
): ByteSpan | undefined {
  const buf = view(bytes)
  const wanted = Buffer.from(key, 'utf8')
  const keySpan: ByteSpan = { start: 0, end: 0 }
  if (buf[0] !== CH_D) fail(limits.code, 'bencode: expected a dictionary')
  let pos = 1
  while (pos < buf.length && buf[pos] !== CH_E) {
    const c = buf[pos]!
    if (c < CH_0 || c > CH_9) fail(limits.code, `bencode: dictionary key at byte ${pos} is not a string`)
    pos = scanString(buf, pos, limits.code, keySpan)
    const valueStart = pos
    pos = scanValue(buf, pos, limits.maxDepth - 1, limits.code)
    if (buf.compare(wanted, 0, wanted.length, keySpan.start, keySpan.end) === 0) return { start: valueStart, end: pos }
  }
  if (pos >= buf.length) fail(limits.code, 'bencode: dictionary is not terminated')
  return undefined
}

export interface ReadOptions {
  /** Defaults to EBADTORRENT. */
  code?: BencodeErrorCode
  /** Names the dictionary or list in error messages, e.g. "info" or "files[3]". */
  where?: string
}
type RequiredField = ReadOptions & { required: true }

function describe (opts: ReadOptions | undefined, key: string): string {
  return `${opts?.where ?? 'dictionary'} field "${key}"`
}

export function isDict (value: BencodeValue | undefined): value is BencodeDict {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value)
}

export function asInt (value: BencodeValue, what: string, code: BencodeErrorCode = 'EBADTORRENT'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(code, `${what} must be an integer`)
  return value
}

export function asBytes (value: BencodeValue, what: string, code: BencodeErrorCode = 'EBADTORRENT'): Buffer {
  // isView checks the object itself; instanceof would trust a forged prototype chain.
  if (!ArrayBuffer.isView(value)) fail(code, `${what} must be a byte string`)
  return view(value as Uint8Array)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Strict UTF-8: a string that does not decode is an error, never silently altered. */
export function asString (value: BencodeValue, what: string, code: BencodeErrorCode = 'EBADTORRENT'): string {
  const bytes = asBytes(value, what, code)
  try {
    return utf8.decode(bytes)
  } catch (err) {
    return fail(code, `${what} is not valid UTF-8`, err)
  }
}

export function asDict (value: BencodeValue, what: string, code: BencodeErrorCode = 'EBADTORRENT'): BencodeDict {
  if (!isDict(value)) fail(code, `${what} must be a dictionary`)
  return value
}

export function asList (value: BencodeValue, what: string, code: BencodeErrorCode = 'EBADTORRENT'): BencodeValue[] {
  if (!Array.isArray(value)) fail(code, `${what} must be a list`)
  return value
}

function field (dict: BencodeDict, key: string, opts: ReadOptions & { required?: boolean } | undefined): BencodeValue | undefined {
  // Own keys only: a "__proto__" key in untrusted input must not make other keys appear present.
  if (Object.hasOwn(dict, key)) return dict[key]
  if (opts?.required === true) fail(opts.code ?? 'EBADTORRENT', `${describe(opts, key)} is missing`)
  return undefined
}

function reader<T> (convert: (value: BencodeValue, what: string, code: BencodeErrorCode) => T) {
  function get (dict: BencodeDict, key: string, opts: RequiredField): T
  function get (dict: BencodeDict, key: string, opts?: ReadOptions & { required?: false }): T | undefined
  function get (dict: BencodeDict, key: string, opts?: ReadOptions & { required?: boolean }): T | undefined {
    const value = field(dict, key, opts)
    return value === undefined ? undefined : convert(value, describe(opts, key), opts?.code ?? 'EBADTORRENT')
  }
  return get
}

/** Field readers: undefined when the key is absent (or an error with `required: true`), an error
 *  naming the field when it has the wrong type. */
export const getInt = reader(asInt)
export const getBytes = reader(asBytes)
export const getString = reader(asString)
export const getDict = reader(asDict)
export const getList = reader(asList)
