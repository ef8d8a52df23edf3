import sodium from 'sodium-native'
import { fail } from '../errors.js'

export { verify } from '../util/ed25519.js'

export interface Keypair {
  /** 32 bytes. */
  publicKey: Buffer
  /** 64 bytes in libsodium's form: the 32-byte seed, then the public key. */
  privateKey: Buffer
}

/** A fresh ed25519 key pair, or the one derived from a 32-byte seed (the same seed, the same pair). */
export async function createKeypair (seed?: Uint8Array): Promise<Keypair> {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const privateKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  if (seed === undefined) {
    sodium.crypto_sign_keypair(publicKey, privateKey)
  } else {
    if (seed.byteLength !== sodium.crypto_sign_SEEDBYTES) fail('EINVALIDURL', `a key seed is ${sodium.crypto_sign_SEEDBYTES} bytes, got ${seed.byteLength}`)
    sodium.crypto_sign_seed_keypair(publicKey, privateKey, seed)
  }
  return { publicKey, privateKey }
}

/** Checks that the pair belongs together, so a wrong key fails here and not as a DHT rejection later. */
export function checkKeypair (publicKey: Uint8Array, privateKey: Uint8Array): void {
  if (publicKey.byteLength !== sodium.crypto_sign_PUBLICKEYBYTES || privateKey.byteLength !== sodium.crypto_sign_SECRETKEYBYTES) {
    fail('EBADSIG', `an ed25519 key pair is a ${sodium.crypto_sign_PUBLICKEYBYTES}-byte public key and a ${sodium.crypto_sign_SECRETKEYBYTES}-byte private key (libsodium form); use createKeypair()`)
  }
  if (!Buffer.from(privateKey.subarray(32)).equals(Buffer.from(publicKey))) {
    fail('EBADSIG', 'the private key does not belong to the public key; pass the pair createKeypair() gave you')
  }
}

export function sign (message: Uint8Array, privateKey: Uint8Array): Buffer {
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES)
  sodium.crypto_sign_detached(signature, message, privateKey)
  return signature
}
