import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { tmpDir } from '../helpers/fixtures.js'
import { STEP_MS, assertSameTree, downloaded, localClient, writeMultiFile } from '../interop/fixtures.js'
import { writeRandomFile } from '../helpers/fixtures.js'

// The whole path of a v2-only magnet: BEP9 checked by SHA-256, the piece layers by hash requests,
// pieces verified against them.

test('a magnet of a v2-only torrent downloads: metadata by BEP9, piece layers by hash requests, pieces by SHA-256', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(src)
  await writeRandomFile(path.join(src, 'big.bin'), 3 * 1024 * 1024 + 17)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { version: 2 })
  assert.equal(magnet.includes('urn:btih:'), false, 'a v2-only magnet: btmh alone')
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(magnet, { download: 'all', peers: [`127.0.0.1:${seeder.port}`], timeout: STEP_MS })
  await downloaded(archive)
  await assertSameTree(src, path.join(out, 'src'))
})
