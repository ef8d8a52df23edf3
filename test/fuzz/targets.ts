/**
 * One fuzz target per parser of untrusted bytes. Each checks that hostile input gives either a
 * result that keeps the parser's promises or the parser's own error code, never another
 * exception. `npm run fuzz` runs each for FUZZ_SECONDS; `npm test` runs a short pass.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import { parseInfo, parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { FrameParser, type Frame } from '../../lib/wire/codec.js'
import { decodeExtendedHandshake, encodeExtendedHandshake, MAX_EXTENSION_NAMES, MAX_METADATA_SIZE, MAX_REQQ } from '../../lib/wire/extended.js'
import { encodeHandshake } from '../../lib/wire/handshake.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'
import { decodeMetadataMessage, encodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import { decodePexMessage, encodePexMessage } from '../../lib/wire/ut-pex.js'
import { decodeHolepunch, encodeHolepunch } from '../../lib/wire/holepunch-message.js'
import { parseLsdAnnounce, encodeLsdAnnounces } from '../../lib/discovery/lsd-packet.js'
import { parseGatewayPath } from '../../lib/gateway/request-path.js'
import { parseRange } from '../../lib/gateway/range.js'
import { decodeTorrentPointer, encodeTorrentPointer } from '../../lib/mutable/item.js'
import { anyString, bencodeBytes, mutationsOf, onlyFails } from './inputs.js'
import { swarmTarget } from './swarm-target.js'
import { mseInitiatorTarget } from './mse-target.js'

/** How long and how often a target runs. */
export interface Budget {
  numRuns: number
  /** Milliseconds after which the target stops, counting what ran as a pass. */
  timeLimit: number
}

export interface FuzzTarget {
  name: string
  /** Resolves when the budget is spent; rejects with fast-check's report (seed, shrunk input) on a failure. */
  check (budget: Budget): Promise<void>
}

function params (budget: Budget): fc.Parameters<unknown> {
  return { numRuns: budget.numRuns, interruptAfterTimeLimit: budget.timeLimit, markInterruptAsFailure: false }
}

/** A target from a synchronous property. */
export function syncTarget<T> (name: string, input: fc.Arbitrary<T>, check: (value: T) => void): FuzzTarget {
  return { name, check: async (budget) => fc.assert(fc.property(input, check), params(budget) as fc.Parameters<[T]>) }
}

/** A target from an asynchronous property (sockets, timers). */
export function asyncTarget<T> (name: string, input: fc.Arbitrary<T>, check: (value: T) => Promise<void>): FuzzTarget {
  return { name, check: (budget) => fc.assert(fc.asyncProperty(input, check), params(budget) as fc.Parameters<[T]>) }
}

function checkMetainfo (meta: Metainfo): void {
  let offset = 0
  for (const file of meta.files) {
    assert.equal(file.offset, offset)
    assert.ok(file.path.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0') && !s.includes('\\')))
    offset += file.length
  }
  assert.equal(meta.length, offset)
  assert.ok(!meta.name.includes('/') && meta.name !== '..' && meta.name !== '.')
  assert.equal(meta.pieceHashes.length, meta.pieceCount * 20)
}

const SAMPLE = (() => {
  const files = layoutFiles([
    { path: 'dir/a.txt', length: 100 }, { path: 'dir/sub/b.bin', length: 3000, attr: 'x' }, { path: 'c', length: 0 }, { path: 'l', length: 0, attr: 'l' }
  ], 1024, { padToPieces: true })
  const last = files[files.length - 1]!
  const pieceHashes = Buffer.alloc(Math.ceil((last.offset + last.length) / 1024) * 20, 7)
  return createMetainfo({ name: 'sample', files, pieceLength: 1024, pieceHashes, multiFile: true })
})()
const TORRENT = encodeTorrentFile(SAMPLE, { announce: 'http://tracker.invalid/' })

const metainfoTargets: FuzzTarget[] = [
  syncTarget('metainfo/parseTorrent', bencodeBytes([TORRENT]), (bytes) => {
    const meta = onlyFails(['EBADTORRENT'], () => parseTorrent(bytes))
    if (meta !== undefined) checkMetainfo(meta)
  }),
  syncTarget('metainfo/parseInfo', bencodeBytes([SAMPLE.info]), (bytes) => {
    const meta = onlyFails(['EBADTORRENT'], () => parseInfo(bytes))
    if (meta !== undefined) checkMetainfo(meta)
  }),
  syncTarget('metainfo/parseMagnet', fc.oneof(
    anyString(300),
    fc.array(fc.tuple(
      fc.constantFrom('xt', 'xt.1', 'xs', 's', 'dn', 'x.pe', 'so', 'tr', 'XT', '', '%'),
      fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('urn:btih:', 'urn:btpk:', 'urn:btmh:1220').map((p) => p + 'a'.repeat(40)), fc.constant('urn:btmh:1220' + 'b'.repeat(64)), fc.stringMatching(/^[0-9,-]{0,30}$/),
        fc.constantFrom('[::1]:1', '1.2.3.4:0', 'host:65536', '%E0%A4%A', '0-99999', '99999-0'))
    ).map(([k, v]) => `${k}=${v}`), { maxLength: 8 }).map((ps) => `magnet:?${ps.join('&')}`)
  ), (uri) => {
    const link = onlyFails(['EINVALIDURL'], () => parseMagnet(uri))
    if (link !== undefined) assert.ok(link.infoHash !== undefined || link.publicKey !== undefined || link.infoHashV2 !== undefined)
  })
]

/** A stream of frames with plausible lengths and any id, split at random points. */
const frameStream = fc.tuple(
  fc.array(fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.record({ length: fc.oneof(fc.nat(70), fc.constantFrom(2 ** 31, 2 ** 32 - 1, 1024 * 1024 + 13, 1024 * 1024 + 14)), id: fc.nat(255), body: fc.uint8Array({ maxLength: 70 }) })
      .map(({ length, id, body }) => {
        const out = Buffer.alloc(5 + body.length)
        out.writeUInt32BE(length, 0)
        out[4] = id
        out.set(body, 5)
        return out
      })
  ), { maxLength: 20 }),
  fc.array(fc.nat(), { maxLength: 20 }),
  fc.boolean()
)

const HANDSHAKE = encodeHandshake({ infoHash: asInfoHash(Buffer.alloc(20, 1)), peerId: asPeerId(Buffer.alloc(20, 2)), extended: true, fast: true, dht: false })

const wireTargets: FuzzTarget[] = [
  syncTarget('wire/FrameParser', frameStream, ([parts, cuts, handshake]) => {
    const bytes = Buffer.concat([handshake ? HANDSHAKE : Buffer.alloc(0), ...parts])
    const parser = new FrameParser({ handshake })
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
    let prev = 0
    onlyFails(['EPROTO'], () => {
      for (const cut of [...at, bytes.length]) {
        for (const frame of parser.push(bytes.subarray(prev, cut)) as Iterable<Frame>) assert.equal(typeof frame.type, 'string')
        prev = cut
        assert.ok(parser.buffered <= 1024 * 1024 + 13 + 68)
      }
    })
  }),
  syncTarget('wire/extendedHandshake', bencodeBytes([
    encodeExtendedHandshake({ m: { ut_metadata: 1, ut_pex: 2 }, v: 'x', reqq: 250, metadataSize: 1000, p: 6881, yourip: Buffer.alloc(4) })
  ]), (bytes) => {
    const h = onlyFails(['EPROTO'], () => decodeExtendedHandshake(bytes))
    if (h === undefined) return
    const names = Object.keys(h.m)
    assert.ok(names.length <= MAX_EXTENSION_NAMES)
    for (const name of names) assert.ok(Number.isInteger(h.m[name]) && h.m[name]! >= 0 && h.m[name]! <= 255)
    if (h.reqq !== undefined) assert.ok(h.reqq >= 1 && h.reqq <= MAX_REQQ)
    if (h.metadataSize !== undefined) assert.ok(h.metadataSize >= 1 && h.metadataSize <= MAX_METADATA_SIZE)
    if (h.p !== undefined) assert.ok(h.p >= 1 && h.p <= 65535)
  }),
  syncTarget('wire/utMetadata', bencodeBytes([
    encodeMetadataMessage({ type: 'request', piece: 0 }),
    encodeMetadataMessage({ type: 'data', piece: 1, totalSize: 20_000, data: Buffer.alloc(100, 1) }),
    encodeMetadataMessage({ type: 'reject', piece: 2 })
  ]), (bytes) => {
    const msg = onlyFails(['EPROTO'], () => decodeMetadataMessage(bytes))
    if (msg === undefined || msg === null) return
    assert.ok(Number.isInteger(msg.piece) && msg.piece >= 0 && msg.piece < MAX_METADATA_SIZE / BLOCK_SIZE)
    if (msg.type === 'data') assert.ok(msg.data.length <= BLOCK_SIZE && msg.totalSize >= 1 && msg.totalSize <= MAX_METADATA_SIZE)
  }),
  syncTarget('wire/utPex', bencodeBytes([
    encodePexMessage({ added: [{ host: '127.0.0.1', port: 6881, flags: 1 }, { host: '::1', port: 1, flags: 0 }], dropped: [{ host: '10.0.0.1', port: 2 }] })
  ]), (bytes) => {
    const msg = onlyFails(['EPROTO'], () => decodePexMessage(bytes))
    if (msg === undefined) return
    for (const peer of [...msg.added, ...msg.dropped]) assert.ok(Number.isInteger(peer.port) && peer.port >= 0 && peer.port <= 65535)
  }),
  syncTarget('wire/utHolepunch', fc.oneof(fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)), mutationsOf([
    encodeHolepunch({ type: 'rendezvous', host: '1.2.3.4', port: 6881, error: 0 }),
    encodeHolepunch({ type: 'error', host: '2001:db8::1', port: 1, error: 2 })
  ])), (bytes) => {
    const msg = decodeHolepunch(bytes)
    if (msg === null) return
    assert.ok(Number.isInteger(msg.port) && msg.port >= 0 && msg.port <= 65535 && msg.error >= 0 && msg.error <= 0xffffffff)
    assert.ok(msg.type === 'error' || msg.error === 0)
  })
]

const lsdSample = encodeLsdAnnounces('239.192.152.143:6771', 6881, ['ab'.repeat(20), 'cd'.repeat(20)], 'cookie')[0]!

const otherTargets: FuzzTarget[] = [
  syncTarget('discovery/lsdPacket', fc.oneof(
    fc.uint8Array({ maxLength: 5000 }),
    mutationsOf([lsdSample]),
    fc.array(fc.constantFrom('BT-SEARCH * HTTP/1.1', 'Port: 1', 'Port: 65536', 'Port: 0', 'Infohash: ' + 'a'.repeat(40), 'cookie: x', ':', '\r', ''), { maxLength: 12 })
      .map((lines) => Buffer.from(lines.join('\r\n')))
  ), (packet) => {
    const announce = parseLsdAnnounce(packet)
    if (announce === null) return
    assert.ok(announce.port >= 1 && announce.port <= 65535)
    assert.ok(announce.infoHashes.length > 0 && announce.infoHashes.every((h) => /^[0-9a-f]{40}$/.test(h)))
  }),
  syncTarget('gateway/requestPath', fc.oneof(
    anyString(200),
    fc.array(fc.constantFrom('btih', 'btpk', 'ab'.repeat(20), 'cd'.repeat(32), '..', '.', '%2e%2e', '%2E.', '%2f', '%5c', '%00', '%', '%e0%a4', 'a', '', '?x', '#', '\\', 'C:'), { maxLength: 8 })
      .map((segments) => '/' + segments.join('/'))
  ), (target) => {
    const result = parseGatewayPath(target)
    if (!result.ok || result.kind === 'home') return
    for (const segment of result.segments) {
      assert.ok(segment !== '' && segment !== '.' && segment !== '..' && !/[/\\\0]/.test(segment), `segment ${JSON.stringify(segment)} of ${JSON.stringify(target)}`)
    }
  }),
  syncTarget('gateway/range', fc.tuple(
    fc.oneof(fc.string({ maxLength: 40 }), fc.tuple(fc.oneof(fc.constant(''), fc.nat().map(String), fc.constant('9'.repeat(30))), fc.oneof(fc.constant(''), fc.nat().map(String), fc.constant('9'.repeat(30))))
      .map(([a, b]) => `bytes=${a}-${b}`)),
    fc.nat()
  ), ([header, size]) => {
    const range = parseRange(header, size)
    if (range.kind !== 'part') return
    assert.ok(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end), JSON.stringify(range))
    assert.ok(range.start >= 0 && range.start <= range.end && range.end < size, `${header} of ${size}: ${JSON.stringify(range)}`)
  }),
  syncTarget('mutable/torrentPointer', bencodeBytes([encodeTorrentPointer(asInfoHash(Buffer.alloc(20, 3)))]), (bytes) => {
    const ih = onlyFails(['EBADTORRENT'], () => decodeTorrentPointer(bytes))
    if (ih !== undefined) assert.equal(ih.length, 20)
  })
]

export const targets: FuzzTarget[] = [...metainfoTargets, ...wireTargets, ...otherTargets, mseInitiatorTarget, swarmTarget]
