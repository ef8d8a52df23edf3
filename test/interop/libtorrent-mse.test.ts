import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 60

for (const encryption of ['prefer', 'require'] as const) {
  test(`we seed with encryption '${encryption}'; libtorrent forcing RC4 encryption downloads from us`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const file = path.join(dir, 'data.bin')
    await writeRandomFile(file, 3 * 1024 * 1024 + 5)
    const seeder = await localClient(t, undefined, false, { encryption })
    const magnet = await seeder.seed(file)
    const out = path.join(dir, 'out')
    await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S, { env: { LT_PEER_ENC: 'forced' } })
      .next('finished download', STEP_MS)
    assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  })
}

test('we seed with encryption \'disable\'; libtorrent forcing encryption cannot download', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 64 * 1024)
  const seeder = await localClient(t, undefined, false, { encryption: 'disable' })
  const magnet = await seeder.seed(file)
  const peer = startLtPeer(t, ['download', magnet, path.join(dir, 'out'), `127.0.0.1:${seeder.port}`], 3, { env: { LT_PEER_ENC: 'forced' } })
  await assert.rejects(peer.next('finished download', STEP_MS))
})
