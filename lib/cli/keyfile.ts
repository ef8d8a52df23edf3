import fs from 'node:fs/promises'
import type { Keypair } from '../mutable/keys.js'
import { checkKeypair } from '../mutable/keys.js'
import { TrackerlessError } from '../errors.js'

/** A key file: JSON with the two keys in hex, readable by its owner only. */
interface KeyFileJson {
  publicKey: string
  privateKey: string
}

/** Writes a new key file (mode 0600); never replaces an existing one, which may be a key in use. */
export async function writeKeyFile (file: string, pair: Keypair): Promise<void> {
  const body: KeyFileJson = { publicKey: pair.publicKey.toString('hex'), privateKey: pair.privateKey.toString('hex') }
  try {
    await fs.writeFile(file, JSON.stringify(body, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TrackerlessError('EEXIST', `"${file}" exists already; it may hold a key in use: choose another -o or delete it first`)
    }
    throw err
  }
}

export async function readKeyFile (file: string): Promise<Keypair> {
  const text = await fs.readFile(file, 'utf8')
  let json: Partial<KeyFileJson>
  try {
    json = JSON.parse(text) as Partial<KeyFileJson>
  } catch {
    throw new TrackerlessError('EBADSIG', `"${file}" is not a key file (expected the JSON that "trackerless keygen" writes)`)
  }
  const hex = (value: unknown, bytes: number): Buffer | null =>
    typeof value === 'string' && new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(value) ? Buffer.from(value, 'hex') : null
  const publicKey = hex(json.publicKey, 32)
  const privateKey = hex(json.privateKey, 64)
  if (publicKey === null || privateKey === null) {
    throw new TrackerlessError('EBADSIG', `"${file}" needs "publicKey" (64 hex digits) and "privateKey" (128 hex digits); make one with "trackerless keygen"`)
  }
  checkKeypair(publicKey, privateKey)
  return { publicKey, privateKey }
}
