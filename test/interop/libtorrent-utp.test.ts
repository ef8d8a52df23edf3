import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, downloaded, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer, startLtSeeder } from './lt-peer.js'

const skip = libtorrentMissing()
/** Every wait inside the libtorrent peer; ours are shorter, so that ours fail first and say why. */
const LT_LIMIT_S = 90
const UTP_ONLY = '--utp-only'

interface Downloaded { bytes: number, name: string, clients: Array<{ name: string, byPeerId: string }> }

test('libtorrent with TCP off seeds; we (TCP and uTP on) fetch by magnet link over uTP, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 3 * 1024 * 1024 + 5)
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S, { create: ['--piece-length', String(256 * 1024), UTP_ONLY], seed: [UTP_ONLY] })

  const out = path.join(dir, 'out')
  // Our first dial is TCP (the policy in lib/client/transports.ts), which libtorrent refuses; the
  // peer list's retry goes over uTP.
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(created.magnet, { download: 'all', peers: [`127.0.0.1:${created.port}`], timeout: STEP_MS })
  assert.equal(archive.infoHash, created.infoHash)
  await downloaded(archive)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(path.join(src, 'data.bin'))), 'data.bin differs')
})

test('we seed with TCP off; libtorrent with TCP off fetches the metadata and the data over uTP, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 3 * 1024 * 1024 + 77)
  const seeder = await localClient(t, undefined, false, { tcp: false })
  const magnet = await seeder.seed(file)
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`, UTP_ONLY], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.equal(got.name, 'data.bin')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  assert.ok(got.clients.some((c) => c.name.startsWith('trackerless ')), `libtorrent saw no trackerless peer: ${JSON.stringify(got.clients)}`)
})

test('we seed with both transports on; libtorrent with TCP off fetches over uTP (incoming uTP on the TCP port number)', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 2 * 1024 * 1024 + 1)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(file)
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`, UTP_ONLY], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  assert.ok(got.clients.some((c) => c.name.startsWith('trackerless ')), `libtorrent saw no trackerless peer: ${JSON.stringify(got.clients)}`)
})

test('libtorrent with --utp-only really has TCP off: our client with uTP off finds no peer (ETIMEDOUT)', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 64 * 1024)
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S, { seed: [UTP_ONLY] })
  const leecher = await localClient(t, path.join(dir, 'out'), false, { utp: false })
  await assert.rejects(leecher.lookup(created.magnet, { peers: [`127.0.0.1:${created.port}`], timeout: 3000 }), { code: 'ETIMEDOUT' })
})
