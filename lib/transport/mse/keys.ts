import crypto from 'node:crypto'
import { Rc4 } from './rc4.js'

/** The 768-bit MSE/PE prime, generator 2. */
const PRIME = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
  'hex')
/** Bytes of a public value Y and of the shared secret S. */
export const KEY_BYTES = 96
/** Verification constant: 8 zero bytes, which the receiver finds after decryption. */
export const VC = new Uint8Array(8)

export interface KeyPair {
  readonly publicKey: Buffer
  /** S, KEY_BYTES bytes big-endian, or null when the peer's Y is not a valid public value. */
  secret (peerPublic: Uint8Array): Buffer | null
}

/**
 * One DiffieHellman object for every key pair: node checks the prime each time it makes one, which
 * costs tens of milliseconds of CPU (a peer opening MSE connections would make us spend them per
 * 96 bytes it sends), while computing with it takes a twentieth of one. Each use sets its own
 * private key first, synchronously, so key pairs never see each other's.
 */
let group: crypto.DiffieHellman | null = null

/** A fresh Diffie-Hellman key pair on the MSE group. The private key is 160 bits, as the
 *  specification advises and libtorrent uses. */
export function createKeyPair (): KeyPair {
  const dh = group ??= crypto.createDiffieHellman(PRIME, Buffer.from([2]))
  const privateKey = crypto.randomBytes(20)
  dh.setPrivateKey(privateKey)
  const publicKey = leftPad(dh.generateKeys())
  return {
    publicKey,
    secret (peerPublic) {
      if (!validPublic(peerPublic)) return null
      dh.setPrivateKey(privateKey)
      return leftPad(dh.computeSecret(Buffer.from(peerPublic)))
    }
  }
}

/** Y must lie in [2, p-2]: 0, 1 and p-1 give a secret an eavesdropper knows, ≥ p is no residue. */
export function validPublic (y: Uint8Array): boolean {
  if (y.length !== KEY_BYTES) return false
  const value = Buffer.from(y)
  if (value.compare(PRIME) >= 0) return false
  let high = 0
  for (let n = 0; n < KEY_BYTES - 1; n++) high |= value[n]!
  if (high === 0 && value[KEY_BYTES - 1]! <= 1) return false
  const pMinus1 = Buffer.from(PRIME); pMinus1[KEY_BYTES - 1] = pMinus1[KEY_BYTES - 1]! - 1
  return !value.equals(pMinus1)
}

function leftPad (value: Buffer): Buffer {
  if (value.length === KEY_BYTES) return value
  const out = Buffer.alloc(KEY_BYTES)
  value.copy(out, KEY_BYTES - value.length)
  return out
}

export function sha1 (...parts: Uint8Array[]): Buffer {
  const hash = crypto.createHash('sha1')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1')

/** HASH('req1', S): the initiator's synchronisation mark. */
export const req1 = (s: Uint8Array): Buffer => sha1(text('req1'), s)
/** HASH('req2', SKEY) xor HASH('req3', S): names the torrent without showing its info-hash. */
export function req23 (skey: Uint8Array, s: Uint8Array): Buffer {
  return xor(req2(skey), sha1(text('req3'), s))
}
export const req2 = (skey: Uint8Array): Buffer => sha1(text('req2'), skey)
/** Undoes req23's mask: what is left is req2(SKEY) of the torrent asked for. */
export const unmaskReq2 = (masked: Uint8Array, s: Uint8Array): Buffer => xor(masked, sha1(text('req3'), s))

function xor (a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length)
  for (let n = 0; n < a.length; n++) out[n] = a[n]! ^ b[n]!
  return out
}

/** The cipher of what the initiator ('A') or the responder ('B') sends, its first 1024 bytes dropped. */
export function cipherOf (sender: 'A' | 'B', s: Uint8Array, skey: Uint8Array): Rc4 {
  const rc4 = new Rc4(sha1(text(sender === 'A' ? 'keyA' : 'keyB'), s, skey))
  rc4.discard(1024)
  return rc4
}
