import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import bencode from 'bencode'
import fc from 'fast-check'
import { createKeypair, checkKeypair, sign, verify } from '../../lib/mutable/keys.js'
import { targetOf, encodeTorrentPointer, decodeTorrentPointer, checkSalt } from '../../lib/mutable/item.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { TrackerlessError } from '../../lib/errors.js'

describe('ed25519 keys', () => {
  it('makes libsodium-form pairs: 32-byte public key, 64-byte private key ending in the public key', async () => {
    const { publicKey, privateKey } = await createKeypair()
    assert.equal(publicKey.length, 32)
    assert.equal(privateKey.length, 64)
    assert.ok(privateKey.subarray(32).equals(publicKey))
    checkKeypair(publicKey, privateKey)
  })

  it('derives the same pair from the same seed', async () => {
    const seed = Buffer.alloc(32, 7)
    const a = await createKeypair(seed)
    const b = await createKeypair(seed)
    assert.ok(a.publicKey.equals(b.publicKey))
    assert.ok(a.privateKey.subarray(0, 32).equals(seed))
    await assert.rejects(createKeypair(Buffer.alloc(31)), { code: 'EINVALIDURL' })
  })

  it('signs and verifies; a changed message, key or signature fails without throwing', async () => {
    const { publicKey, privateKey } = await createKeypair()
    const other = await createKeypair()
    const message = Buffer.from('3:seqi1e1:v4:spam')
    const sig = sign(message, privateKey)
    assert.ok(verify(sig, message, publicKey))
    assert.equal(verify(sig, Buffer.from('3:seqi2e1:v4:spam'), publicKey), false)
    assert.equal(verify(sig, message, other.publicKey), false)
    assert.equal(verify(sig.subarray(1), message, publicKey), false)
    assert.equal(verify(sig, message, publicKey.subarray(1)), false)
  })

  it('refuses a private key that does not match the public key', async () => {
    const a = await createKeypair()
    const b = await createKeypair()
    assert.throws(() => checkKeypair(a.publicKey, b.privateKey), { code: 'EBADSIG' })
    assert.throws(() => checkKeypair(a.publicKey, a.privateKey.subarray(0, 32)), { code: 'EBADSIG' })
  })
})

describe('BEP44/46 items', () => {
  const ih = asInfoHash(Buffer.alloc(20, 0xab))

  it('targets SHA-1 of key then salt', () => {
    const k = Buffer.alloc(32, 1)
    assert.notDeepEqual(targetOf(k), targetOf(k, Buffer.from('s')))
    assert.equal(targetOf(k).length, 20)
  })

  it('round-trips a torrent pointer, from bytes or decoded', () => {
    const bytes = encodeTorrentPointer(ih)
    assert.equal(bytes.toString('latin1').slice(0, 7), 'd2:ih20')
    assert.ok(decodeTorrentPointer(bytes).equals(ih))
    assert.ok(decodeTorrentPointer(bencode.decode(bytes)).equals(ih))
  })

  it('refuses pointers of the wrong shape and salts over 64 bytes', () => {
    for (const bad of [bencode.encode({ ih: Buffer.alloc(19) }), bencode.encode([1]), Buffer.from('x'), Buffer.alloc(1001, 0x31), 'text', 5, null]) {
      assert.throws(() => decodeTorrentPointer(bad), { code: 'EBADTORRENT' })
    }
    assert.throws(() => checkSalt(Buffer.alloc(65)), { code: 'EINVALIDURL' })
    checkSalt(Buffer.alloc(64))
  })

  it('turns any value a node sends into an infohash or EBADTORRENT', () => {
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 1200 }), fc.anything()), (value) => {
      try {
        decodeTorrentPointer(value)
      } catch (err) {
        assert.ok(err instanceof TrackerlessError && err.code === 'EBADTORRENT', String(err))
      }
    }), { numRuns: 500 })
  })
})
