import sodium from 'sodium-native'

/**
 * An ed25519 signature check for bytes from the network: false for a bad signature and for inputs
 * of the wrong type or size, where libsodium would throw.
 */
export function verify (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.byteLength !== sodium.crypto_sign_BYTES) return false
  if (!(publicKey instanceof Uint8Array) || publicKey.byteLength !== sodium.crypto_sign_PUBLICKEYBYTES) return false
  if (!(message instanceof Uint8Array)) return false
  return sodium.crypto_sign_verify_detached(signature, message, publicKey)
}
