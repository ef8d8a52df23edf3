import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 30

interface Downloaded { name: string, dialled: string[] }

test('PEX: libtorrent, given only peer A, learns of peer B from A\'s ut_pex message and downloads from B', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 1024 * 1024 + 5)
  // B has the data and no PEX of its own, so the only way libtorrent can reach it is through A.
  const b = await localClient(t)
  const magnet = await b.seed(file)
  // A knows B (it dialled it) but holds no piece: libtorrent can only finish by finding B.
  const a = await localClient(t, path.join(dir, 'a'), false, { pex: true })
  const atA = await a.lookup(magnet, { peers: [`127.0.0.1:${b.port}`], timeout: STEP_MS })
  assert.deepEqual(atA.peers, [`127.0.0.1:${b.port}`])

  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${a.port}`], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  // B dials no one and A holds nothing: libtorrent dialled B's listen port, which only A's ut_pex
  // message named, and got every byte from it.
  assert.deepEqual(got.dialled, [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`].sort())
  assert.equal(atA.progress, 0, 'A holds pieces: libtorrent need not have reached B')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})
