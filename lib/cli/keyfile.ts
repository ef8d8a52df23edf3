import fs from 'node:fs/promises'
import type { Keypair } from '../mutable/keys.js'
import { derivedPublicKey, loadEd25519 } from '../mutable/keys.js'
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

/** Group and other permission bits: whoever they let read the file can publish under the key. */
const SHARED = 0o077

/** The file's text, refused (as ssh does) when others may read it; Windows has no such mode bits. */
async function readPrivate (file: string): Promise<string> {
  const handle = await fs.open(file, 'r')
  try {
    // The mode of the file we read, not of whatever the path pointed at a moment earlier.
    const { mode } = await handle.stat()
    if (process.platform !== 'win32' && (mode & SHARED) !== 0) {
      throw new TrackerlessError('EBADSIG', `"${file}" is readable by other users (mode 0${(mode & 0o777).toString(8)}); whoever can read it can publish under its key: run "chmod 600 ${file}" and try again`)
    }
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

export async function readKeyFile (file: string): Promise<Keypair> {
  const text = await readPrivate(file)
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
  await loadEd25519()
  const derived = derivedPublicKey(privateKey)
  if (!derived.equals(publicKey) || !privateKey.subarray(32).equals(publicKey)) {
    throw new TrackerlessError('EBADSIG', `the private key in "${file}" does not match its public key: its seed gives the public key ${derived.toString('hex')}, the file says ${publicKey.toString('hex')}; the file is damaged or was edited: make a new one with "trackerless keygen"`)
  }
  return { publicKey, privateKey }
}
