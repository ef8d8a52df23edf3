import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { readKeyFile, writeKeyFile } from '../../lib/cli/keyfile.js'
import { checkKeypair, createKeypair } from '../../lib/mutable/keys.js'
import { TrackerlessError } from '../../lib/errors.js'
import { tmpDir } from '../helpers/fixtures.js'

const POSIX = process.platform !== 'win32'

async function refused (file: string, message: RegExp): Promise<void> {
  await assert.rejects(readKeyFile(file), (err: unknown) => {
    assert.ok(err instanceof TrackerlessError, String(err))
    assert.equal(err.code, 'EBADSIG')
    assert.match(err.message, message)
    return true
  })
}

test('a key file readable by group or others is refused with the chmod 600 hint', { skip: !POSIX }, async (t) => {
  const dir = await tmpDir(t, 'tl-key-')
  const file = path.join(dir, 'site.key')
  const pair = await createKeypair()
  await writeKeyFile(file, pair)
  assert.deepEqual(await readKeyFile(file), pair)
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    await fs.chmod(file, mode)
    await refused(file, new RegExp(`"${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" is readable by other users \\(mode 0${mode.toString(8)}\\).*chmod 600 `))
  }
  await fs.chmod(file, 0o400)
  assert.deepEqual(await readKeyFile(file), pair)
})

test('a key file whose private key does not derive its public key is refused, saying so', async (t) => {
  const dir = await tmpDir(t, 'tl-key-')
  const a = await createKeypair()
  const b = await createKeypair()
  // The seed of one pair with the public key of another, in both halves: it passes a check that
  // only compares the two copies of the public key, and every signature it makes is wrong.
  const privateKey = Buffer.concat([a.privateKey.subarray(0, 32), b.publicKey])
  const file = path.join(dir, 'mixed.key')
  await fs.writeFile(file, JSON.stringify({ publicKey: b.publicKey.toString('hex'), privateKey: privateKey.toString('hex') }), { mode: 0o600 })
  await refused(file, /private key in .* does not match its public key: its seed gives the public key [0-9a-f]{64}/)
  assert.throws(() => checkKeypair(b.publicKey, privateKey), (err: unknown) =>
    err instanceof TrackerlessError && err.code === 'EBADSIG' && /does not belong to the public key/.test(err.message))
})
