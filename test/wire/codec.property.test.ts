import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TrackerlessError } from '../../lib/errors.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { encodeMessage, FrameParser, type Frame } from '../../lib/wire/codec.js'
import { encodeHandshake } from '../../lib/wire/handshake.js'
import type { Message } from '../../lib/wire/messages.js'

const RUNS = 300
const MAX_FRAME = 64

/** Splits `bytes` at the given cut points (any order, any values). */
function chunk (bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let prev = 0
  for (const cut of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, cut))
    prev = cut
  }
  return out
}

/** Feeds every chunk; returns the frames, or the error that stopped the parser. */
function run (parser: FrameParser, chunks: Buffer[]): { frames: Frame[], error?: unknown } {
  const frames: Frame[] = []
  try {
    for (const c of chunks) {
      for (const frame of parser.push(c)) {
        frames.push(frame)
        assert.ok(parser.buffered <= MAX_FRAME + 68)
      }
    }
  } catch (error) {
    return { frames, error }
  }
  return { frames }
}

/** Frames with plausible small lengths and any id, so that parsing goes past the length check. */
const plausibleFrame = fc.record({
  length: fc.integer({ min: 0, max: MAX_FRAME + 2 }),
  id: fc.oneof(fc.integer({ min: 0, max: 21 }), fc.integer({ min: 0, max: 255 })),
  body: fc.uint8Array({ maxLength: MAX_FRAME + 2 })
}).map(({ length, id, body }) => {
  const out = Buffer.alloc(4 + Math.min(length, 1 + body.length))
  out.writeUInt32BE(length, 0)
  if (out.length > 4) {
    out[4] = id
    out.set(body.subarray(0, out.length - 5), 5)
  }
  return out
})

const stream = fc.oneof(
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc.array(plausibleFrame, { maxLength: 20 }).map((frames) => Buffer.concat(frames))
)

const u32 = fc.nat({ max: 0xffffffff })
const bytes = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b))
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.constantFrom<Message>({ type: 'keep-alive' }, { type: 'choke' }, { type: 'unchoke' }, { type: 'interested' },
    { type: 'not-interested' }, { type: 'have-all' }, { type: 'have-none' }),
  fc.record({ type: fc.constantFrom('have' as const, 'suggest' as const, 'allowed-fast' as const), index: u32 }, { noNullPrototype: true }),
  fc.record({ type: fc.constantFrom('request' as const, 'cancel' as const, 'reject' as const), index: u32, begin: u32, length: u32 }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('piece' as const), index: u32, begin: u32, block: bytes }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('bitfield' as const), bitfield: bytes.filter((b) => b.length > 0) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('port' as const), port: fc.nat({ max: 65535 }) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('extended' as const), id: fc.nat({ max: 255 }), payload: bytes }, { noNullPrototype: true })
)

const cuts = fc.array(fc.nat(), { maxLength: 30 })

describe('FrameParser properties', () => {
  it('turns any byte stream, chunked any way, into messages or an EPROTO error', () => {
    fc.assert(fc.property(stream, cuts, fc.boolean(), (input, at, withHandshake) => {
      const prefix = withHandshake
        ? encodeHandshake({ infoHash: asInfoHash(Buffer.alloc(20, 1)), peerId: asPeerId(Buffer.alloc(20, 2)), extended: true, fast: true, dht: false })
        : Buffer.alloc(0)
      const parser = new FrameParser({ maxFrame: MAX_FRAME, handshake: withHandshake })
      const { frames, error } = run(parser, chunk(Buffer.concat([prefix, input]), at))
      if (error !== undefined) {
        assert.ok(error instanceof TrackerlessError, `unexpected ${String(error)}`)
        assert.equal(error.code, 'EPROTO')
      }
      for (const frame of frames) assert.equal(typeof frame.type, 'string')
    }), { numRuns: RUNS })
  })

  it('gives back exactly the messages that were encoded, chunked any way', () => {
    fc.assert(fc.property(fc.array(message, { maxLength: 12 }), cuts, (messages, at) => {
      const wire = Buffer.concat(messages.map(encodeMessage))
      const parser = new FrameParser({ handshake: false })
      const frames: Frame[] = []
      for (const c of chunk(wire, at)) {
        for (const frame of parser.push(c)) frames.push(copy(frame))
      }
      assert.deepEqual(frames, messages)
    }), { numRuns: RUNS })
  })

  it('gives back the same messages when every read lands in one reused buffer, as dialled sockets do', () => {
    fc.assert(fc.property(fc.array(message, { maxLength: 12 }), cuts, (messages, at) => {
      const wire = Buffer.concat(messages.map(encodeMessage))
      const parser = new FrameParser({ handshake: false })
      const readBuffer = Buffer.alloc(wire.length)
      const frames: Frame[] = []
      for (const c of chunk(wire, at)) {
        readBuffer.fill(0xee)
        c.copy(readBuffer)
        for (const frame of parser.push(readBuffer.subarray(0, c.length))) frames.push(copy(frame))
      }
      assert.deepEqual(frames, messages)
    }), { numRuns: RUNS })
  })
})

/** Buffers in frames are views valid only until the next frame; keep copies. */
function copy (frame: Frame): Frame {
  switch (frame.type) {
    case 'piece': return { ...frame, block: Buffer.from(frame.block) }
    case 'bitfield': return { ...frame, bitfield: Buffer.from(frame.bitfield) }
    case 'extended': return { ...frame, payload: Buffer.from(frame.payload) }
    default: return frame
  }
}
