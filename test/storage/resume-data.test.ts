import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Bitfield } from '../../lib/util/bitfield.js'
import { FileMap } from '../../lib/storage/file-map.js'
import type { FileEntry } from '../../lib/metainfo/types.js'
import { ResumeRejected, decodeResume, encodeResume, maxResumeSize, trustedPieces, type FileStamp } from '../../lib/storage/resume-data.js'

const IH = 'ab'.repeat(20)
const stamp = fc.oneof(fc.constant(null), fc.record({ size: fc.nat(), mtime: fc.nat() }))

test('a record decodes to what was encoded', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.array(stamp, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 50 }), (pieces, files, bits) => {
    const have = new Bitfield(pieces)
    for (const b of bits) have.set(b % pieces)
    const back = decodeResume(encodeResume(IH, { pieceCount: pieces, have, files }), IH, pieces, files.length)
    assert.ok(back.have.buffer.equals(have.buffer))
    assert.equal(JSON.stringify(back.files), JSON.stringify(files))
  }))
})

test('any other text is rejected with a reason, never thrown otherwise, never larger than the bound', () => {
  const json = fc.jsonValue().map((v) => JSON.stringify(v))
  const tampered = fc.record({
    v: fc.oneof(fc.constant(1), fc.anything()),
    infoHash: fc.oneof(fc.constant(IH), fc.string()),
    pieces: fc.oneof(fc.constant(10), fc.integer()),
    have: fc.oneof(fc.constant('AAA='), fc.string(), fc.base64String()),
    files: fc.oneof(fc.constant([[1, 2], null]), fc.array(fc.anything(), { maxLength: 3 }))
  }).map((o) => JSON.stringify(o))
  fc.assert(fc.property(fc.oneof(fc.string(), json, tampered), (text) => {
    try {
      const rec = decodeResume(text, IH, 10, 2)
      assert.equal(rec.have.length, 10)
      assert.equal(rec.files.length, 2)
      assert.ok(text.length <= maxResumeSize(10, 2))
    } catch (err) {
      assert.ok(err instanceof ResumeRejected, `threw ${String(err)}`)
      assert.ok(err.message.length > 0)
    }
  }), { numRuns: 2000 })
})

test('bits past the last piece, a short piece set and an oversized file are refused', () => {
  const files = [{ size: 1, mtime: 2 }]
  const good = JSON.parse(encodeResume(IH, { pieceCount: 10, have: new Bitfield(10), files })) as Record<string, unknown>
  assert.throws(() => decodeResume(JSON.stringify({ ...good, have: Buffer.from([0, 0x01]).toString('base64') }), IH, 10, 1), /bits past the last piece/)
  assert.throws(() => decodeResume(JSON.stringify({ ...good, have: 'AA==' }), IH, 10, 1), /piece set is 1 bytes, not 2/)
  assert.throws(() => decodeResume(' '.repeat(maxResumeSize(10, 1) + 1), IH, 10, 1), /more than a torrent of 10 pieces and 1 files needs/)
  assert.throws(() => decodeResume(JSON.stringify({ ...good, files: [[1, -2]] }), IH, 10, 1), /not \[size, mtime\]/)
})

test('a piece is trusted only when every file it touches has its saved size and mtime', () => {
  const file = (path: string, offset: number, length: number, pad: boolean): FileEntry => ({ path, offset, length, pad, attr: pad ? 'p' : '' })
  const map = new FileMap({ pieceLength: 4, length: 12, files: [file('a', 0, 6, false), file('p', 6, 2, true), file('b', 8, 4, false)] })
  fc.assert(fc.property(fc.array(stamp, { minLength: 3, maxLength: 3 }), fc.array(stamp, { minLength: 3, maxLength: 3 }), (then, now) => {
    const trusted = trustedPieces({ pieceCount: 3, have: new Bitfield(3), files: then }, map, now)
    const same = (i: number): boolean => then[i] !== null && now[i] !== null && (then[i] as FileStamp).size === now[i]!.size && (then[i] as FileStamp).mtime === now[i]!.mtime
    // Piece 0 is in a; piece 1 in a and the pad; piece 2 in b.
    assert.equal(trusted.get(0), same(0))
    assert.equal(trusted.get(1), same(0))
    assert.equal(trusted.get(2), same(2))
  }))
})
