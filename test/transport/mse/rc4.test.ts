import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fc from 'fast-check'
import { Rc4 } from '../../../lib/transport/mse/rc4.js'
import { createKeyPair, validPublic, KEY_BYTES } from '../../../lib/transport/mse/keys.js'

// RFC 6229, section 2: key stream bytes at offset 0, 1008 (the last MSE discards) and 1024 (the
// first it uses).
const vectors = [
  {
    key: '0102030405',
    at: { 0: 'b2396305f03dc027ccc3524a0a1118a8' }
  },
  {
    key: '0102030405060708090a0b0c0d0e0f10',
    at: { 0: '9ac7cc9a609d1ef7b2932899cde41b97', 1008: 'e7a72574f8782ae26aabcf9ebcd66065', 1024: 'bdf0324e6083dcc6d3cedd3ca8c53c16' }
  }
]

test('RC4 key stream matches RFC 6229, before and after the 1024 bytes MSE discards', () => {
  for (const { key, at } of vectors) {
    const stream = new Rc4(Buffer.from(key, 'hex')).update(Buffer.alloc(1040))
    for (const [offset, hex] of Object.entries(at)) {
      assert.equal(Buffer.from(stream.subarray(Number(offset), Number(offset) + 16)).toString('hex'), hex, `${key} at ${offset}`)
    }
  }
})

test('RC4 discard then update continues the same key stream', () => {
  const whole = new Rc4(Buffer.from('01020304050607', 'hex')).update(Buffer.alloc(1100))
  const split = new Rc4(Buffer.from('01020304050607', 'hex'))
  split.discard(1024)
  assert.deepEqual(Buffer.from(split.update(Buffer.alloc(76))), Buffer.from(whole.subarray(1024)))
})

test('RC4 encrypts and decrypts back', () => {
  const data = Buffer.from('the quick brown fox')
  const sealed = new Rc4(Buffer.from('key')).update(Buffer.from(data))
  assert.notDeepEqual(sealed, data)
  assert.deepEqual(new Rc4(Buffer.from('key')).update(sealed), data)
})

test('Diffie-Hellman on the MSE group gives both sides the same 96-byte secret', () => {
  const a = createKeyPair()
  const b = createKeyPair()
  assert.equal(a.publicKey.length, KEY_BYTES)
  const s = a.secret(b.publicKey)
  assert.ok(s !== null)
  assert.equal(s.length, KEY_BYTES)
  assert.deepEqual(s, b.secret(a.publicKey))
})

test('key pairs made and used interleaved agree pairwise: none computes with another\'s private key', () => {
  const a = createKeyPair()
  const b = createKeyPair()
  const ab = a.secret(b.publicKey)
  const c = createKeyPair()
  const ca = c.secret(a.publicKey)
  assert.deepEqual(b.secret(a.publicKey), ab)
  assert.deepEqual(a.secret(c.publicKey), ca)
  assert.deepEqual(b.secret(c.publicKey), c.secret(b.publicKey))
  assert.notDeepEqual(ab, ca)
})

test('the MSE group is set up once, not per key pair (node checks the prime each time: tens of ms of CPU)', (t) => {
  let made = 0
  const original = crypto.createDiffieHellman
  crypto.createDiffieHellman = ((...args: Parameters<typeof original>) => { made++; return original(...args) }) as typeof original
  t.after(() => { crypto.createDiffieHellman = original })
  for (let n = 0; n < 20; n++) createKeyPair()
  assert.ok(made <= 1, `${made} DiffieHellman objects for 20 key pairs`)
})

test('Diffie-Hellman rejects 0, 1, p-1 and values not below p', () => {
  const p = Buffer.from('FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563', 'hex')
  const one = Buffer.alloc(KEY_BYTES); one[KEY_BYTES - 1] = 1
  const pMinus1 = Buffer.from(p); pMinus1[KEY_BYTES - 1] = 0x62
  const two = Buffer.alloc(KEY_BYTES); two[KEY_BYTES - 1] = 2
  for (const y of [Buffer.alloc(KEY_BYTES), one, pMinus1, p, Buffer.alloc(KEY_BYTES, 0xff)]) {
    assert.equal(validPublic(y), false, y.toString('hex'))
    assert.equal(createKeyPair().secret(y), null)
  }
  assert.equal(validPublic(two), true)
})

/** RC4 a byte at a time, as the specification writes it: the reference for the word path. */
function reference (key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = Uint8Array.from({ length: 256 }, (_, n) => n)
  let j = 0
  for (let n = 0; n < 256; n++) { j = (j + s[n]! + key[n % key.length]!) & 0xff; [s[n], s[j]] = [s[j]!, s[n]!] }
  let i = 0
  j = 0
  return data.map((byte) => {
    i = (i + 1) & 0xff; j = (j + s[i]!) & 0xff; [s[i], s[j]] = [s[j]!, s[i]!]
    return byte ^ s[(s[i]! + s[j]!) & 0xff]!
  })
}

test('RC4 gives the same key stream whatever the chunks\' sizes and alignment (the word path and the byte path agree)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 3000, size: 'max' }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 12 }), fc.nat(7), (key, data, sizes, offset) => {
    const backing = new Uint8Array(offset + data.length)
    backing.set(data, offset)
    const view = backing.subarray(offset)
    const rc4 = new Rc4(key)
    for (let at = 0, k = 0; at < view.length; k++) {
      const n = Math.min(sizes[k % sizes.length]!, view.length - at)
      rc4.update(view.subarray(at, at + n))
      at += n
    }
    assert.deepEqual(Buffer.from(view), Buffer.from(reference(key, data)))
  }), { numRuns: 200 })
})
