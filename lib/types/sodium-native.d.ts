declare module 'sodium-native' {
  /** ed25519 as libsodium does it: secret keys are 64 bytes, the 32-byte seed then the public key. */
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export const crypto_sign_SEEDBYTES: number
  export const crypto_sign_BYTES: number
  export function crypto_sign_keypair (publicKey: Uint8Array, secretKey: Uint8Array): void
  export function crypto_sign_seed_keypair (publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  export function crypto_sign_detached (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  export function crypto_sign_verify_detached (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  const sodium: {
    crypto_sign_PUBLICKEYBYTES: number
    crypto_sign_SECRETKEYBYTES: number
    crypto_sign_SEEDBYTES: number
    crypto_sign_BYTES: number
    crypto_sign_keypair: typeof crypto_sign_keypair
    crypto_sign_seed_keypair: typeof crypto_sign_seed_keypair
    crypto_sign_detached: typeof crypto_sign_detached
    crypto_sign_verify_detached: typeof crypto_sign_verify_detached
  }
  export default sodium
}
