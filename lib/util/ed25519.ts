import type Sodium from 'sodium-native'

type SodiumApi = typeof Sodium

export const PUBLIC_KEY_BYTES = 32
/** libsodium's form: the 32-byte seed, then the public key. */
export const SECRET_KEY_BYTES = 64
export const SEED_BYTES = 32
export const SIGNATURE_BYTES = 64

let sodium: SodiumApi | null = null

/**
 * Loads libsodium. It is loaded on first need (the DHT node, mutable links) rather than with the
 * library, so a client without them does not carry its memory; every sync function below needs
 * this to have resolved once.
 */
export async function loadEd25519 (): Promise<void> {
  sodium ??= (await import('sodium-native')).default
}

function lib (): SodiumApi {
  if (sodium === null) throw new Error('ed25519 used before loadEd25519() resolved')
  return sodium
}

/**
 * An ed25519 signature check for bytes from the network: false for a bad signature and for inputs
 * of the wrong type or size, where libsodium would throw.
 */
export function verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.byteLength !== SIGNATURE_BYTES) return false
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== PUBLIC_KEY_BYTES) return false
  if (!(message instanceof Uint8Array)) return false
  return lib().crypto_sign_verify_detached(signature, message, publicKey)
}

export function sign (message: Uint8Array, secretKey: Uint8Array): Buffer {
  const signature = Buffer.alloc(SIGNATURE_BYTES)
  lib().crypto_sign_detached(signature, message, secretKey)
  return signature
}

/** A random key pair, or the one derived from a SEED_BYTES seed. */
export function keypair (seed?: Uint8Array): { publicKey: Buffer, secretKey: Buffer } {
  const publicKey = Buffer.alloc(PUBLIC_KEY_BYTES)
  const secretKey = Buffer.alloc(SECRET_KEY_BYTES)
  if (seed === undefined) lib().crypto_sign_keypair(publicKey, secretKey)
  else lib().crypto_sign_seed_keypair(publicKey, secretKey, seed)
  return { publicKey, secretKey }
}
