import { fail } from '../errors.js'
import { loadEd25519, keypair, PUBLIC_KEY_BYTES, SECRET_KEY_BYTES, SEED_BYTES } from '../util/ed25519.js'

export { verify, sign, loadEd25519 } from '../util/ed25519.js'

export interface Keypair {
  /** 32 bytes. */
  publicKey: Buffer
  /** 64 bytes in libsodium's form: the 32-byte seed, then the public key. */
  privateKey: Buffer
}

/** A fresh ed25519 key pair, or the one derived from a 32-byte seed (the same seed, the same pair). */
export async function createKeypair (seed?: Uint8Array): Promise<Keypair> {
  if (seed !== undefined && seed.byteLength !== SEED_BYTES) fail('EINVALIDURL', `a key seed is ${SEED_BYTES} bytes, got ${seed.byteLength}`)
  await loadEd25519()
  const { publicKey, secretKey } = keypair(seed)
  return { publicKey, privateKey: secretKey }
}

/**
 * The public key the private key's seed gives. libsodium signs with the seed and the public key
 * stored after it without checking that they agree, so a mismatched pair makes signatures no one
 * accepts. Needs loadEd25519() to have resolved.
 */
export function derivedPublicKey (privateKey: Uint8Array): Buffer {
  return keypair(privateKey.subarray(0, SEED_BYTES)).publicKey
}

/** Checks that the pair belongs together, so a wrong key fails here and not as a DHT rejection
 *  later. Needs loadEd25519() to have resolved. */
export function checkKeypair (publicKey: Uint8Array, privateKey: Uint8Array): void {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES || privateKey.byteLength !== SECRET_KEY_BYTES) {
    fail('EBADSIG', `an ed25519 key pair is a ${PUBLIC_KEY_BYTES}-byte public key and a ${SECRET_KEY_BYTES}-byte private key (libsodium form); use createKeypair()`)
  }
  const pub = Buffer.from(publicKey)
  if (!Buffer.from(privateKey.subarray(SEED_BYTES)).equals(pub) || !derivedPublicKey(privateKey).equals(pub)) {
    fail('EBADSIG', 'the private key does not belong to the public key; pass the pair createKeypair() gave you')
  }
}
