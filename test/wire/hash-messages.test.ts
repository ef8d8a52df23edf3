import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TrackerlessError } from '../../lib/errors.js'
import { decodeMessage, encodeMessage, FrameParser } from '../../lib/wire/codec.js'
import {
  decodeHashMessage, encodeHashMessage, HASH_HEADER_SIZE, isWellFormedRange, MAX_HASH_COUNT, type HashMessage
} from '../../lib/wire/hash-messages.js'

const RUNS = 300
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const root = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b))

const range = fc.record({ root, baseLayer: u32, index: u32, length: fc.integer({ min: 0, max: 64 }), proofLayers: fc.integer({ min: 0, max: 80 }) })

const message: fc.Arbitrary<HashMessage> = fc.oneof(
  range.map((r) => ({ type: 'hash-request' as const, ...r })),
  range.map((r) => ({ type: 'hash-reject' as const, ...r })),
  range.chain((r) => fc.integer({ min: 0, max: Math.min(r.proofLayers, 64) }).map((uncles) =>
    ({ type: 'hashes' as const, ...r, hashes: Buffer.alloc(32 * (r.length + uncles), r.length) })))
)

function body (frame: Buffer): Buffer {
  assert.equal(frame.readUInt32BE(0), frame.length - 4)
  return frame.subarray(4)
}

describe('BEP52 hash messages', () => {
  it('lays a hash request out as BEP52 does: id 21, pieces root, base layer, index, length, proof layers', () => {
    const frame = encodeHashMessage({ type: 'hash-request', root: Buffer.alloc(32, 7), baseLayer: 2, index: 512, length: 512, proofLayers: 9 })
    assert.equal(frame.length, 4 + 49)
    assert.equal(frame[4], 21)
    assert.deepEqual(frame.subarray(5, 37), Buffer.alloc(32, 7))
    assert.deepEqual([37, 41, 45, 49].map((o) => frame.readUInt32BE(o)), [2, 512, 512, 9])
  })

  it('round-trips every message through the wire codec', () => {
    fc.assert(fc.property(message, (msg) => {
      const frame = encodeMessage(msg)
      assert.deepEqual(frame, encodeHashMessage(msg))
      assert.deepEqual(decodeMessage(body(frame)), msg)
    }), { numRuns: RUNS })
  })

  it('garbage after a hash id never throws anything but an EPROTO TrackerlessError, and decodes to views', () => {
    fc.assert(fc.property(fc.constantFrom(21, 22, 23), fc.uint8Array({ maxLength: 400 }), (id, rest) => {
      const frame = Buffer.concat([Buffer.from([id]), rest])
      try {
        const msg = decodeHashMessage(frame)
        assert.equal(msg.root.buffer, frame.buffer)
        if (msg.type === 'hashes') {
          assert.ok(msg.hashes.length >= 32 * msg.length && msg.hashes.length <= 32 * (msg.length + 64))
        } else {
          assert.equal(frame.length, HASH_HEADER_SIZE)
        }
      } catch (err) {
        assert.ok(err instanceof TrackerlessError, String(err))
        assert.equal(err.code, 'EPROTO')
      }
    }), { numRuns: RUNS })
  })

  it('refuses a hashes message whose hashes do not match its length and proof layers', () => {
    const head = { root: Buffer.alloc(32), baseLayer: 0, index: 0, length: 4, proofLayers: 2 }
    const frame = (n: number): Buffer => body(encodeHashMessage({ type: 'hashes', ...head, hashes: Buffer.alloc(32 * n) }))
    assert.equal((decodeHashMessage(frame(4)) as { hashes: Buffer }).hashes.length, 128)
    assert.equal((decodeHashMessage(frame(6)) as { hashes: Buffer }).hashes.length, 192)
    assert.throws(() => decodeHashMessage(frame(3)), { code: 'EPROTO' })
    assert.throws(() => decodeHashMessage(frame(7)), { code: 'EPROTO' })
    const ragged = Buffer.concat([frame(4), Buffer.alloc(5)])
    assert.throws(() => decodeHashMessage(ragged), { code: 'EPROTO' })
    const huge = body(encodeHashMessage({ type: 'hashes', ...head, length: MAX_HASH_COUNT + 1, proofLayers: 0, hashes: Buffer.alloc(32 * (MAX_HASH_COUNT + 1)) }))
    assert.throws(() => decodeHashMessage(huge), { code: 'EPROTO' })
  })

  it('refuses a hash request or reject of the wrong size', () => {
    const ok = body(encodeHashMessage({ type: 'hash-request', root: Buffer.alloc(32), baseLayer: 0, index: 0, length: 2, proofLayers: 0 }))
    assert.throws(() => decodeHashMessage(ok.subarray(0, 48)), { code: 'EPROTO' })
    assert.throws(() => decodeHashMessage(Buffer.concat([ok, Buffer.alloc(1)])), { code: 'EPROTO' })
    ok[0] = 23
    assert.throws(() => decodeHashMessage(Buffer.concat([ok, Buffer.alloc(32)])), { code: 'EPROTO' })
  })

  it('a frame parser hands hash messages on between other messages, split anywhere', () => {
    const msgs: HashMessage[] = [
      { type: 'hash-request', root: Buffer.alloc(32, 1), baseLayer: 0, index: 0, length: 2, proofLayers: 1 },
      { type: 'hashes', root: Buffer.alloc(32, 2), baseLayer: 0, index: 0, length: 2, proofLayers: 1, hashes: Buffer.alloc(96, 3) }
    ]
    const bytes = Buffer.concat([...msgs.map((m) => encodeMessage(m)), encodeMessage({ type: 'have', index: 5 })])
    for (let cut = 0; cut <= bytes.length; cut += 7) {
      const parser = new FrameParser({ handshake: false })
      const got = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))].map((f) => structuredClone(f))
      assert.deepEqual(got.map((f) => f.type), ['hash-request', 'hashes', 'have'])
      assert.deepEqual((got[1] as { hashes: Uint8Array }).hashes, new Uint8Array(96).fill(3))
    }
  })

  it('calls a range well formed only when bounded, a power of two long and aligned', () => {
    const r = { root: Buffer.alloc(32), baseLayer: 0, index: 512, length: 512, proofLayers: 10 }
    assert.equal(isWellFormedRange(r), true)
    assert.equal(isWellFormedRange({ ...r, length: 0 }), false)
    assert.equal(isWellFormedRange({ ...r, length: 384, index: 0 }), false)
    assert.equal(isWellFormedRange({ ...r, index: 256 }), false)
    assert.equal(isWellFormedRange({ ...r, length: MAX_HASH_COUNT * 2, index: 0 }), false)
    assert.equal(isWellFormedRange({ ...r, proofLayers: 65 }), false)
    assert.equal(isWellFormedRange({ ...r, root: Buffer.alloc(20) }), false)
  })
})
