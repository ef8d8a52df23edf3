import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeHolepunch, encodeHolepunch, HOLEPUNCH_ERROR, type HolepunchMessage } from '../../lib/wire/holepunch-message.js'
import { ipFromBytes } from '../../lib/wire/compact-ip.js'

const RUNS = 500

describe('ut_holepunch codec (BEP55)', () => {
  it('writes msg_type, addr_type, address, port and err_code, big-endian', () => {
    assert.deepEqual(encodeHolepunch({ type: 'rendezvous', host: '1.2.3.4', port: 0x1a2b, error: 0 }),
      Buffer.from([0, 0, 1, 2, 3, 4, 0x1a, 0x2b, 0, 0, 0, 0]))
    assert.deepEqual(encodeHolepunch({ type: 'error', host: '1.2.3.4', port: 1, error: HOLEPUNCH_ERROR.noSelf }),
      Buffer.from([2, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0, 4]))
    const v6 = encodeHolepunch({ type: 'connect', host: '2001:db8::1', port: 6881, error: 0 })
    assert.equal(v6.length, 2 + 16 + 2 + 4)
    assert.deepEqual([v6[0], v6[1]], [1, 1])
    // err_code is 0 outside errors, whatever the caller put there.
    assert.equal(encodeHolepunch({ type: 'connect', host: '1.2.3.4', port: 1, error: 3 }).readUInt32BE(8), 0)
  })

  it('reads what it writes', () => {
    const cases: HolepunchMessage[] = [
      { type: 'rendezvous', host: '100.64.0.101', port: 40000, error: 0 },
      { type: 'connect', host: '2001:db8::7', port: 1, error: 0 },
      { type: 'error', host: '10.0.0.1', port: 65535, error: HOLEPUNCH_ERROR.notConnected }
    ]
    for (const msg of cases) assert.deepEqual(decodeHolepunch(encodeHolepunch(msg)), msg)
  })

  it('takes rendezvous and connect without err_code (older libtorrent leaves it out) and ignores trailing bytes', () => {
    assert.deepEqual(decodeHolepunch(Buffer.from([1, 0, 9, 8, 7, 6, 0, 80])), { type: 'connect', host: '9.8.7.6', port: 80, error: 0 })
    assert.deepEqual(decodeHolepunch(Buffer.from([0, 0, 9, 8, 7, 6, 0, 80, 0, 0, 0, 0, 0xff, 0xff])), { type: 'rendezvous', host: '9.8.7.6', port: 80, error: 0 })
  })

  it('refuses an unknown type or address type, a short message, and an error without its code', () => {
    assert.equal(decodeHolepunch(Buffer.from([3, 0, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0])), null)
    assert.equal(decodeHolepunch(Buffer.from([0, 2, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0])), null)
    assert.equal(decodeHolepunch(Buffer.from([0, 1, 1, 2, 3, 4, 0, 1, 0, 0, 0, 0])), null, 'addr_type 1 needs 16 bytes')
    assert.equal(decodeHolepunch(Buffer.from([0, 0, 1, 2, 3, 4, 0])), null)
    assert.equal(decodeHolepunch(Buffer.from([2, 0, 1, 2, 3, 4, 0, 1])), null)
    assert.equal(decodeHolepunch(Buffer.alloc(0)), null)
  })

  it('never throws on any bytes, and what it accepts encodes back to the same leading bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const msg = decodeHolepunch(bytes)
      if (msg === null) return
      assert.ok(msg.port >= 0 && msg.port <= 65535)
      const again = encodeHolepunch(msg)
      const size = bytes[1] === 0 ? 4 : 16
      assert.deepEqual(again.subarray(0, 4 + size), Buffer.from(bytes.subarray(0, 4 + size)))
    }), { numRuns: RUNS })
  })

  it('round-trips any address, port, type and code', () => {
    const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipFromBytes(b, 0, 4))
    const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => !Buffer.from(b.subarray(0, 12)).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])))
      .map((b) => ipFromBytes(b, 0, 16))
    fc.assert(fc.property(fc.constantFrom('rendezvous', 'connect', 'error') as fc.Arbitrary<HolepunchMessage['type']>, fc.oneof(v4, v6), fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 0xffffffff }), (type, host, port, code) => {
      const msg = { type, host, port, error: type === 'error' ? code : 0 }
      assert.deepEqual(decodeHolepunch(encodeHolepunch(msg)), msg)
    }), { numRuns: RUNS })
  })
})
