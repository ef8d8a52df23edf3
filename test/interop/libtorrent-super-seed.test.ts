/**
 * BEP16 against libtorrent 2.0.8: leechers that only know our super-seeding seed learn of each
 * other by its ut_pex and complete, trading what it offered each of them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 60
const LEECHERS = 3
const SIZE = 2 * 1024 * 1024

test('libtorrent leechers complete from our super-seeding seed, which sends less than two copies for three of them', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, SIZE)
  const seeder = await localClient(t, undefined, false, { pex: true })
  const magnet = await seeder.seed(file, { superSeed: true, version: 1 })
  const archive = await seeder.lookup(magnet)
  const outs = Array.from({ length: LEECHERS }, (_, i) => path.join(dir, `lt${i}`))
  const runs = outs.map((out) => startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S).next('finished download', STEP_MS))
  await Promise.all(runs)
  const source = await fs.readFile(file)
  for (const out of outs) assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(source), `${out}: data.bin differs`)
  // A plain seed serves each leecher the whole file itself (three copies here); a super-seed
  // offers each piece to one leecher until another has it, so what it sends beyond one copy is
  // what leechers finish by asking it again. Less than two copies means they traded.
  const sent = archive.stats().uploaded
  t.diagnostic(`the seed sent ${sent} bytes, ${(sent / SIZE).toFixed(2)} copies`)
  assert.ok(sent >= SIZE, `every piece went out once (${sent} bytes)`)
  assert.ok(sent < 2 * SIZE, `the seed sent ${sent} bytes for ${LEECHERS} leechers of ${SIZE}`)
})
