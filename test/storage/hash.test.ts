import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { pieceHashes } from '../helpers/fixtures.js'
import fc from 'fast-check'
import { PieceHasher, sha1, sha1Matches } from '../../lib/storage/hash.js'

test('sha1 and sha1Matches', async () => {
  const digest = await sha1(Buffer.from('abc'))
  assert.equal(digest.toString('hex'), 'a9993e364706816aba3e25717850c26c9cd0d89d')
  assert.equal(await sha1Matches(Buffer.from('abc'), digest), true)
  assert.equal(await sha1Matches(Buffer.from('abd'), digest), false)
})

test('PieceHasher gives the same hashes whatever the chunking', async () => {
  await fc.assert(fc.asyncProperty(
    fc.integer({ min: 1, max: 50 }),
    fc.integer({ min: 0, max: 400 }),
    fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 20 }),
    async (pieceLength, length, cuts) => {
      const data = randomBytes(length)
      const hasher = new PieceHasher(pieceLength, Math.ceil(length / pieceLength))
      let at = 0
      for (let k = 0; at < length; k++) {
        const n = Math.min(cuts[k % cuts.length]!, length - at)
        hasher.update(data.subarray(at, at + n))
        at += n
      }
      assert.deepEqual(await hasher.digest(), pieceHashes(data, pieceLength))
    }
  ), { numRuns: 200 })
})

test('PieceHasher refuses more or fewer bytes than the pieces hold', async () => {
  const over = new PieceHasher(4, 1)
  assert.throws(() => over.update(Buffer.alloc(5)), RangeError)
  const under = new PieceHasher(4, 2)
  under.update(Buffer.alloc(4))
  await assert.rejects(under.digest(), RangeError)
})
