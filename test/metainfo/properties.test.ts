import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { mutate } from '../fuzz/inputs.js'
import bencode from 'bencode'
import type { EncodableValue } from 'bencode'
import { TrackerlessError, type ErrorCode } from '../../lib/errors.js'
import { decodeBounded } from '../../lib/metainfo/bencode.js'
import { createMetainfo, encodeTorrentFile, layoutFiles, type FileInput } from '../../lib/metainfo/create.js'
import { formatMagnet, parseMagnet } from '../../lib/metainfo/magnet.js'
import { parseInfo, parseTorrent } from '../../lib/metainfo/torrent.js'
import { isPortableSegment, portablePaths } from '../../lib/metainfo/portable.js'
import type { Metainfo, MagnetLink } from '../../lib/metainfo/types.js'
import { asInfoHash } from '../../lib/util/ids.js'

// Bounded by run count, and by time so a slow machine cannot make the suite run on and on.
const RUNS = { numRuns: 800, interruptAfterTimeLimit: 60_000 }
const FEW_RUNS = { numRuns: 200, interruptAfterTimeLimit: 60_000 }

/** Runs `fn`; any exception other than a TrackerlessError with `code` fails the property. */
function onlyFails<T> (code: ErrorCode, fn: () => T): T | undefined {
  try {
    return fn()
  } catch (err) {
    if (err instanceof TrackerlessError && err.code === code) return undefined
    throw err
  }
}

function checkInvariants (meta: Metainfo): void {
  let offset = 0
  for (const file of meta.files) {
    assert.equal(file.offset, offset)
    assert.ok(Number.isSafeInteger(file.length) && file.length >= 0)
    assert.ok(!file.path.split('/').some((s) => s === '' || s === '.' || s === '..'))
    offset += file.length
  }
  assert.equal(meta.length, offset)
  assert.equal(meta.pieceHashes.length, meta.pieceCount * 20)
  assert.equal(meta.pieceCount, Math.ceil(meta.length / meta.pieceLength))
}

const SAMPLE = Buffer.from(bencode.encode({
  announce: 'http://t.invalid/a',
  info: {
    name: 'sample',
    'piece length': 16,
    pieces: Buffer.alloc(60, 9),
    private: 1,
    files: [
      { length: 10, path: ['dir', 'a.txt'], attr: 'x' },
      { length: 6, path: ['.pad', '6'], attr: 'p' },
      { length: 30, path: ['b'], 'path.utf-8': ['b'] }
    ]
  }
}))

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.constantFrom(0x30, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0x39) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.constant(0) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), byte: fc.constant(0) })
)

test('random bytes into the parsers give only their own error', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    onlyFails('EBADTORRENT', () => parseTorrent(bytes))
    onlyFails('EBADTORRENT', () => parseInfo(bytes))
    onlyFails('EPROTO', () => decodeBounded(bytes, { maxBytes: 200, maxDepth: 4, code: 'EPROTO' }))
  }), RUNS)
})

test('random mutations of a valid torrent give EBADTORRENT or a consistent torrent', () => {
  checkInvariants(parseTorrent(SAMPLE))
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ops) => {
    const bytes = mutate(SAMPLE, ops)
    const meta = onlyFails('EBADTORRENT', () => parseTorrent(bytes))
    if (meta !== undefined) checkInvariants(meta)
    const info = onlyFails('EBADTORRENT', () => parseInfo(bytes.subarray(bytes.indexOf('4:info') + 6)))
    if (info !== undefined) checkInvariants(info)
  }), RUNS)
})

const { value: bencodeValue } = fc.letrec<{ value: EncodableValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -5, max: 1 << 20 }),
    fc.constantFrom('', '..', '.pad', 'C:', 'a/b', 'x', 'name', 'length'),
    fc.uint8Array({ maxLength: 45 }).map((u) => Buffer.from(u)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('name', 'length', 'files', 'path', 'pieces', 'piece length', 'attr', 'path.utf-8', 'name.utf-8', 'private', 'meta version', '__proto__'), tie('value'), { maxKeys: 5 })
  )
}))

const plausibleInfo = fc.record({
  name: fc.oneof(fc.constantFrom('n', '..', '', 'a/b'), bencodeValue),
  'piece length': fc.oneof(fc.integer({ min: -1, max: 64 }), bencodeValue),
  pieces: fc.oneof(fc.nat(5).map((n) => Buffer.alloc(n * 20)), bencodeValue),
  length: fc.oneof(fc.integer({ min: -1, max: 100 }), bencodeValue),
  files: fc.oneof(fc.array(fc.record({
    length: fc.oneof(fc.integer({ min: -1, max: 40 }), bencodeValue),
    path: fc.oneof(fc.array(fc.constantFrom('a', 'b', '..', '', '.pad', 'C:', 'a\\b'), { maxLength: 3 }), bencodeValue),
    attr: fc.constantFrom('', 'p', 'x', 'px')
  }, { requiredKeys: [] }), { maxLength: 5 }), bencodeValue),
  private: bencodeValue
}, { requiredKeys: [] })

test('structured random info dictionaries give EBADTORRENT or a consistent torrent', () => {
  fc.assert(fc.property(fc.oneof(plausibleInfo, bencodeValue), (info) => {
    const meta = onlyFails('EBADTORRENT', () => parseTorrent(bencode.encode({ info: info as EncodableValue })))
    if (meta !== undefined) checkInvariants(meta)
  }), RUNS)
})

const CHARS = ['a', 'B', 'z', '0', '9', ' ', '_', '-', '.', 'é', '中', '😀', '\uFF61']
const segment = fc.array(fc.constantFrom(...CHARS), { minLength: 1, maxLength: 8 })
  .map((chars) => chars.join(''))
  .filter((s) => s !== '.' && s !== '..' && s !== '.pad')

/** No path is a folder of another: layoutFiles rightly rejects those, tested elsewhere. */
function conflictFree (paths: readonly string[]): boolean {
  const set = new Set(paths)
  return paths.every((path) => {
    const segments = path.split('/')
    for (let i = 1; i < segments.length; i++) if (set.has(segments.slice(0, i).join('/'))) return false
    return true
  })
}

const fileInputs = fc.uniqueArray(
  fc.record({
    path: fc.array(segment, { minLength: 1, maxLength: 3 }).map((segments) => segments.join('/')),
    length: fc.nat(3000),
    attr: fc.constantFrom('', 'x', 'h', 'xh', 'l')
  }),
  { minLength: 1, maxLength: 8, selector: (f) => f.path }
).filter((files) => conflictFree(files.map((f) => f.path)))

test('createMetainfo -> encodeTorrentFile -> parseTorrent round-trips', () => {
  fc.assert(fc.property(
    fileInputs, fc.integer({ min: 1, max: 4096 }), fc.boolean(), fc.boolean(), segment,
    (inputs: FileInput[], pieceLength, padToPieces, isPrivate, name) => {
      const paths = inputs.map((f) => f.path)
      if (portablePaths(paths).some((p, i) => p !== paths[i])) {
        // What we create must open the same everywhere: such names are refused, not round-tripped.
        assert.throws(() => layoutFiles(inputs, pieceLength, { padToPieces }), { code: 'EBADTORRENT' })
        return
      }
      const files = layoutFiles(inputs, pieceLength, { padToPieces })
      assert.deepEqual(layoutFiles([...inputs].reverse(), pieceLength, { padToPieces }), files)
      const last = files[files.length - 1]!
      const pieceHashes = Buffer.alloc(Math.ceil((last.offset + last.length) / pieceLength) * 20, 3)
      if (!isPortableSegment(name)) {
        assert.throws(() => createMetainfo({ name, files, pieceLength, pieceHashes, multiFile: true }), { code: 'EBADTORRENT' })
        return
      }
      const meta = createMetainfo({ name, files, pieceLength, pieceHashes, multiFile: true, private: isPrivate })
      const parsed = parseTorrent(encodeTorrentFile(meta, { 'created by': 'test' }))
      assert.deepEqual(parsed, meta)
      assert.deepEqual(parsed.files, files)
      assert.equal(parsed.name, name)
      assert.equal(parsed.private, isPrivate)
      const single = layoutFiles([{ path: name, length: inputs[0]!.length }], pieceLength)
      const one = createMetainfo({ name, files: single, pieceLength, pieceHashes: Buffer.alloc(Math.ceil(single[0]!.length / pieceLength) * 20), multiFile: false })
      assert.deepEqual(parseTorrent(encodeTorrentFile(one)), one)
    }
  ), FEW_RUNS)
})

const port = fc.integer({ min: 1, max: 65535 })
const peer = fc.oneof(
  fc.tuple(fc.ipV4(), port).map(([host, p]) => `${host}:${p}`),
  fc.tuple(fc.ipV6(), port).map(([host, p]) => `[${host}]:${p}`),
  fc.tuple(fc.constantFrom('localhost', 'peer.example.org', 'a-b.c0'), port).map(([host, p]) => `${host}:${p}`)
)
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u))

const magnetLink = fc.record({
  infoHash: bytes(20).map((b) => asInfoHash(b)),
  publicKey: bytes(32),
  salt: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((u) => Buffer.from(u)),
  name: fc.string({ unit: 'grapheme', maxLength: 30 }),
  peers: fc.array(peer, { maxLength: 4 }),
  select: fc.uniqueArray(fc.nat(99_999), { maxLength: 20 }).map((a) => a.sort((x, y) => x - y))
}, { requiredKeys: ['peers'] })
  .filter((link) => link.infoHash !== undefined || link.publicKey !== undefined)
  .map((link): MagnetLink => ({ ...link }))

test('formatMagnet -> parseMagnet round-trips', () => {
  fc.assert(fc.property(magnetLink, (link: MagnetLink) => {
    assert.deepEqual(parseMagnet(formatMagnet(link)), link)
  }), RUNS)
})

const magnetParam = fc.tuple(
  fc.constantFrom('xt', 'xt.1', 'xs', 's', 'dn', 'x.pe', 'so', 'tr', 'XT', ''),
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom('urn:btih:', 'urn:btpk:', 'urn:btmh:').chain((p) => fc.string({ unit: fc.constantFrom('a', 'F', '0', '7', 'z', '%', '-'), maxLength: 70 }).map((s) => p + s)),
    fc.stringMatching(/^[0-9,-]{0,20}$/),
    peer
  )
).map(([key, value]) => `${key}=${value}`)

test('random strings into parseMagnet give only EINVALIDURL', () => {
  fc.assert(fc.property(
    fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(magnetParam, { maxLength: 6 }).map((params) => `magnet:?${params.join('&')}`)),
    (uri) => {
      const link = onlyFails('EINVALIDURL', () => parseMagnet(uri))
      if (link !== undefined) assert.ok(link.infoHash !== undefined || link.publicKey !== undefined)
    }
  ), RUNS)
})
