import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TrackerlessError } from '../../lib/errors.js'
import { decodeExtendedHandshake, encodeExtendedHandshake, MAX_REQQ } from '../../lib/wire/extended.js'
import type { ExtendedHandshake, MetadataMessage } from '../../lib/wire/messages.js'
import { decodeMetadataMessage, encodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import { throwsCode } from '../helpers/errors.js'

const RUNS = 300

function assertEproto (fn: () => unknown): void {
  throwsCode(fn, 'EPROTO')
}

function onlyEproto (fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof TrackerlessError, `unexpected ${String(err)}`)
    assert.equal(err.code, 'EPROTO')
  }
}

describe('extended handshake', () => {
  it('round-trips every field', () => {
    const h: ExtendedHandshake = {
      m: { ut_metadata: 1, ut_pex: 2, lt_donthave: 0 },
      v: 'trackerless 0.1.0 ✓',
      reqq: 500,
      metadataSize: 31337,
      p: 6881,
      yourip: Buffer.from([127, 0, 0, 1]),
      uploadOnly: true
    }
    assert.deepEqual(decodeExtendedHandshake(encodeExtendedHandshake(h)), h)
  })

  it('encodes the BEP10 keys in sorted order', () => {
    const bytes = encodeExtendedHandshake({ m: { ut_metadata: 3 }, metadataSize: 100, p: 1, reqq: 250 })
    assert.equal(bytes.toString('latin1'), 'd1:md11:ut_metadatai3ee13:metadata_sizei100e1:pi1e4:reqqi250ee')
  })

  it('drops out-of-range fields and caps reqq instead of failing', () => {
    const raw = Buffer.from('d1:md1:ai256e1:bi-1e1:ci7e1:d3:xyze13:metadata_sizei16777217e1:pi65536e4:reqqi99999e6:yourip3:abce')
    assert.deepEqual(decodeExtendedHandshake(raw), { m: { c: 7 }, reqq: MAX_REQQ })
  })

  it('treats a missing m as no extensions', () => {
    assert.deepEqual(decodeExtendedHandshake(Buffer.from('de')), { m: {} })
  })

  it('rejects a __proto__ key, which the bencode package would turn into a prototype', () => {
    assert.throws(() => decodeExtendedHandshake(Buffer.from('d9:__proto__d4:reqqi5ee1:md9:__proto__i3eee')), { code: 'EPROTO' })
  })

  it('rejects malformed bencoding, non-dictionaries and excessive depth with EPROTO', () => {
    for (const bad of ['', 'd', 'd1:m', 'di1ei2ee', 'd1:me', 'd1:mi1e', 'li1ee', 'd1:m-1:e', 'd1:mi-e', 'd1:m99:ae', 'x',
      'd1:a' + 'l'.repeat(20) + 'e'.repeat(21)]) {
      assertEproto(() => decodeExtendedHandshake(Buffer.from(bad)))
    }
  })

  it('turns any bytes into a handshake or an EPROTO error', () => {
    const token = fc.constantFrom('d', 'l', 'e', 'i', '1', '0', '-', ':', '3:abc', '1:m', 'i5e', 'd1:md', '4:reqq')
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.array(token, { maxLength: 60 }).map((t) => Buffer.from(t.join('')))
    )
    fc.assert(fc.property(input, (bytes) => onlyEproto(() => decodeExtendedHandshake(bytes))), { numRuns: RUNS })
  })
})

describe('ut_metadata', () => {
  const messages: MetadataMessage[] = [
    { type: 'request', piece: 0 },
    { type: 'reject', piece: 3 },
    { type: 'data', piece: 1, totalSize: 20000, data: Buffer.alloc(16384, 9) }
  ]

  for (const msg of messages) {
    it(`round-trips ${msg.type}`, () => {
      assert.deepEqual(decodeMetadataMessage(encodeMetadataMessage(msg)), msg)
    })
  }

  it('matches BEP9 bytes', () => {
    assert.equal(encodeMetadataMessage({ type: 'request', piece: 2 }).toString(), 'd8:msg_typei0e5:piecei2ee')
    assert.equal(encodeMetadataMessage({ type: 'data', piece: 0, totalSize: 3, data: Buffer.from('abc') }).toString(),
      'd8:msg_typei1e5:piecei0e10:total_sizei3eeabc')
  })

  it('returns data as a view of the payload', () => {
    const payload = Buffer.from('d8:msg_typei1e5:piecei0e10:total_sizei3eeabc')
    const msg = decodeMetadataMessage(payload)
    assert.equal(msg?.type, 'data')
    if (msg?.type !== 'data') return
    assert.equal(msg.data.buffer, payload.buffer)
  })

  it('ignores unknown message types', () => {
    assert.equal(decodeMetadataMessage(Buffer.from('d8:msg_typei7e5:piecei0ee')), null)
  })

  it('rejects out-of-range fields with EPROTO', () => {
    for (const bad of [
      'd5:piecei0ee',
      'd8:msg_typei0e5:piecei-1ee',
      'd8:msg_typei0e5:piecei1024ee',
      'd8:msg_typei1e5:piecei0ee',
      'd8:msg_typei1e5:piecei0e10:total_sizei16777217ee',
      'd8:msg_typei0e5:piece1:0e',
      `d8:msg_typei0e5:piecei0e1:x${2000}:${'a'.repeat(2000)}e`
    ]) {
      assertEproto(() => decodeMetadataMessage(Buffer.from(bad)))
    }
    const tooMuch = Buffer.concat([Buffer.from('d8:msg_typei1e5:piecei0e10:total_sizei99999ee'), Buffer.alloc(16385)])
    assertEproto(() => decodeMetadataMessage(tooMuch))
  })

  it('turns any bytes into a message, null or an EPROTO error', () => {
    const token = fc.constantFrom('d', 'e', 'i', '1', '0', '-', '8:msg_type', '5:piece', '10:total_size', 'i0e', 'i1e', 'i2e', 'abc')
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.array(token, { maxLength: 40 }).map((t) => Buffer.from(t.join('')))
    )
    fc.assert(fc.property(input, (bytes) => onlyEproto(() => decodeMetadataMessage(bytes))), { numRuns: RUNS })
  })
})
