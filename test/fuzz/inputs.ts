/**
 * Generators of hostile bytes for the fuzz targets: random bytes, bencode-shaped token soup,
 * encodings of random bencode values with the keys our parsers look for, and byte-level
 * mutations of valid inputs.
 */
import fc from 'fast-check'
import bencode, { type EncodableValue } from 'bencode'
import { TrackerlessError } from '../../lib/errors.js'

/** Runs `fn`; a TrackerlessError with one of `codes` is an accepted outcome (undefined), anything else is a crash. */
export function onlyFails<T> (codes: readonly string[], fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (err instanceof TrackerlessError && codes.includes(err.code)) return undefined
    throw err
  }
}

const KEYS = [
  'info', 'name', 'length', 'files', 'path', 'pieces', 'piece length', 'attr', 'path.utf-8', 'name.utf-8', 'private',
  'symlink path', 'meta version', 'file tree', 'm', 'v', 'reqq', 'metadata_size', 'p', 'yourip', 'upload_only',
  'ut_metadata', 'ut_pex', 'msg_type', 'piece', 'total_size', 'added', 'added.f', 'added6', 'dropped', 'ih', 'constructor'
]

const { value } = fc.letrec<{ value: EncodableValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer({ min: -3, max: 70_000 }), fc.constantFrom(0, 1, 255, 256, 65535, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53) + 1)),
    fc.constantFrom('', '..', '.', '/', 'a/b', 'C:', '\0', '.pad', 'x'),
    fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 6 })
  )
}))

/** A random bencode value built from the keys our parsers read. */
export const bencodeValue: fc.Arbitrary<EncodableValue> = value

/** Bencode tokens in random order: mostly malformed, often deep, sometimes valid. */
const tokenSoup = fc.array(fc.oneof(
  fc.constantFrom('d', 'l', 'e', 'i', 'i-', 'i0e', 'i-0e', '0:', '1:a', '4:info', '999999999999:', ':', '-', '00', 'd1:md'),
  fc.nat(40).map((n) => `${n}:${'x'.repeat(n)}`),
  fc.constantFrom(...KEYS).map((k) => `${k.length}:${k}`)
), { maxLength: 60 }).map((tokens) => Buffer.from(tokens.join(''), 'latin1'))

const mutation = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete', 'truncate', 'repeat'),
  at: fc.nat(),
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0x39))
})

/** Applies byte-level edits to a copy of `bytes`. */
export function mutate (bytes: Uint8Array, ops: ReadonlyArray<{ kind: string, at: number, byte: number }>): Buffer {
  let out = Buffer.from(bytes)
  for (const op of ops) {
    const at = out.length === 0 ? 0 : op.at % out.length
    if (op.kind === 'set' && out.length > 0) out[at] = op.byte
    else if (op.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from([op.byte]), out.subarray(at)])
    else if (op.kind === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)])
    else if (op.kind === 'truncate') out = out.subarray(0, at)
    else if (op.kind === 'repeat') out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + (op.byte % 32)), out.subarray(at)])
  }
  return out
}

/**
 * Strings of any code points, lone surrogates included: what fc.string({ unit: 'binary' })
 * gives, without the table of every code point it builds and keeps (82 MiB of heap for the
 * life of the process, which hid what the parsers themselves hold).
 */
export function anyString (maxLength: number): fc.Arbitrary<string> {
  return fc.array(fc.nat(0x10ffff), { maxLength }).map((points) => String.fromCodePoint(...points))
}

/** Mutations of any of `valid`. */
export function mutationsOf (valid: readonly Uint8Array[]): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([bytes, ops]) => mutate(bytes, ops))
}

/** Hostile bytes for a bencode parser: random, token soup, encoded random values, and mutations of `valid`. */
export function bencodeBytes (valid: readonly Uint8Array[] = []): fc.Arbitrary<Buffer> {
  const arbs: Array<fc.Arbitrary<Buffer>> = [
    fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    tokenSoup,
    bencodeValue.map((v) => Buffer.from(bencode.encode(v))),
    fc.dictionary(fc.constantFrom(...KEYS), bencodeValue, { maxKeys: 8 }).map((d) => Buffer.from(bencode.encode(d)))
  ]
  if (valid.length > 0) arbs.push(mutationsOf(valid))
  return fc.oneof(...arbs)
}
