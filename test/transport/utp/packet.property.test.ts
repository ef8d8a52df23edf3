import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decode, encode, looksLikeUtp, seqAdd, seqDiff, ST_DATA, ST_STATE, ST_SYN, type Packet, type PacketType } from '../../../lib/transport/utp/packet.js'

const RUNS = 500

const packetArb: fc.Arbitrary<Packet> = fc.record({
  type: fc.integer({ min: 0, max: 4 }).map((t) => t as PacketType),
  connectionId: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  timestampDiff: fc.integer({ min: 0, max: 0xffffffff }),
  window: fc.integer({ min: 0, max: 0xffffffff }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  ack: fc.integer({ min: 0, max: 0xffff }),
  sack: fc.option(fc.integer({ min: 1, max: 63 }).chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })), { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 1400 })
})

describe('uTP packet codec', () => {
  it('decodes what it encodes', () => {
    fc.assert(fc.property(packetArb, (p) => {
      const back = decode(encode(p))
      assert.ok(back !== null)
      assert.deepEqual({ ...back, sack: back.sack && Buffer.from(back.sack), payload: Buffer.from(back.payload) },
        { ...p, sack: p.sack && Buffer.from(p.sack), payload: Buffer.from(p.payload) })
    }), { numRuns: RUNS })
  })

  it('never throws on arbitrary bytes, and what it accepts re-encodes within the datagram', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, forceHeader) => {
      if (forceHeader && bytes.length > 0) bytes[0] = (bytes[0]! & 0x40) | 0x01
      const p = decode(bytes)
      if (p === null) return
      assert.ok(looksLikeUtp(bytes))
      assert.ok(p.payload.length <= bytes.length - 20)
      if (p.sack !== undefined) assert.ok(p.sack.length > 0)
    }), { numRuns: RUNS * 4 })
  })

  it('takes a SACK mask of any length, as libtorrent sends ((received span + 7) / 8 bytes, not a multiple of 4)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 255 }), fc.uint8Array({ maxLength: 100 }), (len, payload) => {
      const base = encode({ type: ST_STATE, connectionId: 9, timestamp: 1, timestampDiff: 2, window: 3, seq: 4, ack: 5, payload })
      const mask = Buffer.alloc(len, 0xa5)
      const bytes = Buffer.concat([base.subarray(0, 20), Buffer.from([0, len]), mask, base.subarray(20)])
      bytes[1] = 1
      const p = decode(bytes)
      assert.ok(p !== null, `a ${len}-byte SACK mask was refused`)
      assert.ok(Buffer.from(p.sack!).equals(mask))
      assert.ok(Buffer.from(p.payload).equals(payload))
    }), { numRuns: RUNS })
  })

  it('skips unknown extensions and rejects a chain that runs past the datagram', () => {
    const base = encode({ type: ST_DATA, connectionId: 7, timestamp: 1, timestampDiff: 2, window: 3, seq: 4, ack: 5, payload: Buffer.from('hi') })
    const withUnknown = Buffer.concat([base.subarray(0, 20), Buffer.from([0, 3, 9, 9, 9]), base.subarray(20)])
    withUnknown[1] = 77
    assert.equal(Buffer.from(decode(withUnknown)!.payload).toString(), 'hi')
    const truncated = Buffer.concat([base.subarray(0, 20), Buffer.from([0, 200, 1])])
    truncated[1] = 1
    assert.equal(decode(truncated), null)
  })

  it('rejects a DHT message and a wrong version', () => {
    assert.equal(decode(Buffer.from('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe')), null)
    const p = encode({ type: ST_SYN, connectionId: 1, timestamp: 0, timestampDiff: 0, window: 0, seq: 1, ack: 0, payload: new Uint8Array() })
    p[0] = (ST_SYN << 4) | 2
    assert.equal(decode(p), null)
    p[0] = (9 << 4) | 1
    assert.equal(decode(p), null)
    assert.equal(decode(p.subarray(0, 19)), null)
    assert.equal(ST_STATE, 2)
  })

  it('orders sequence numbers across the 16-bit wrap', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32768, max: 32767 }), (a, n) => {
      assert.equal(seqDiff(seqAdd(a, n), a), n)
    }), { numRuns: RUNS })
    assert.equal(seqDiff(0, 0xffff), 1)
    assert.equal(seqDiff(0xffff, 0), -1)
  })
})
