import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, assertSameTree, downloaded, listFiles, localClient, loopbackDht, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer, startLtSeeder } from './lt-peer.js'

const skip = libtorrentMissing()
/** Every wait inside the libtorrent peer; ours are shorter, so that ours fail first and say why. */
const LT_LIMIT_S = 90

interface Downloaded { bytes: number, name: string, clients: Array<{ name: string, byPeerId: string }> }


test('libtorrent seeds; we fetch the metadata (BEP9) and the data by magnet link, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 6 * 1024 * 1024 + 3)
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S, { create: ['--piece-length', String(256 * 1024)] })
  const { port } = created

  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(created.magnet, { download: 'all', peers: [`127.0.0.1:${port}`], timeout: STEP_MS })
  assert.equal(archive.infoHash, created.infoHash)
  await downloaded(archive)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(path.join(src, 'data.bin'))), 'data.bin differs')
})

test('we seed; libtorrent fetches the metadata (BEP9) and the data from us by magnet link, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 5 * 1024 * 1024 + 77)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(file)
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.equal(got.name, 'data.bin')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  // libtorrent names a peer by the 'v' of its extended handshake, and before that by its BEP20
  // peer id prefix, which must not be another client's ("-TL" is Tribler's).
  assert.ok(got.clients.length > 0, 'libtorrent saw no peer')
  for (const seen of got.clients) {
    assert.match(seen.name, /^trackerless /)
    assert.match(seen.byPeerId, /^tl /)
  }
})

test('libtorrent seeds a multi-file torrent it padded (BEP47) with an empty file; we download it by magnet link', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(path.join(src, 'tree'))
  const created = await startLtSeeder(t, src, path.join(src, 'tree'), LT_LIMIT_S, { create: ['--pad', '--piece-length', String(1024 * 1024)] })
  const { port } = created

  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(created.magnet, { download: 'all', peers: [`127.0.0.1:${port}`], timeout: STEP_MS })
  const listed = await archive.readdir('/', { recursive: true }) as string[]
  assert.ok(!listed.some((name) => name.startsWith('.pad')), `pad files are listed: ${listed.join(', ')}`)
  await downloaded(archive)
  await assertSameTree(path.join(src, 'tree'), path.join(out, 'tree'))
  assert.equal(await archive.readFile('/sub/c.txt', 'utf8'), 'a small file between two aligned ones')
  // Pad files are zeros by definition and most of these 1 MiB pieces: only a block that is part
  // data, part padding may be asked for, not the padding itself.
  const real = (await Promise.all((await listFiles(path.join(src, 'tree'))).map(async (f) => (await fs.stat(path.join(src, 'tree', f))).size)))
    .reduce((a, b) => a + b, 0)
  assert.ok(archive.downloaded <= real + 5 * 2 * 16 * 1024, `downloaded ${archive.downloaded} bytes for ${real} bytes of files: the padding was fetched`)
})

test('we seed a multi-file torrent with BEP47 pad files and an empty file; libtorrent downloads it from us', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'tree')
  await writeMultiFile(src)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { pad: true })
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.equal(got.name, 'tree')
  await assertSameTree(src, path.join(out, 'tree'))
})

test('libtorrent seeds and announces to a loopback DHT; we find it from the infohash alone and download', { skip }, async (t) => {
  const dht = await loopbackDht(t)
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 2 * 1024 * 1024 + 9)
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S, { create: ['--piece-length', String(256 * 1024)], seed: ['--dht', dht] })
  const { port } = created

  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out, [dht])
  const archive = await leecher.lookup(created.infoHash, { download: 'all', timeout: STEP_MS })
  // Once complete, we close our connection to the seed (BEP21): look while downloading.
  const peers = new Set(archive.peers)
  archive.on('peer', (address) => peers.add(address))
  await downloaded(archive)
  assert.ok(peers.has(`127.0.0.1:${port}`), `found ${[...peers].join(', ')}, not libtorrent on ${port}`)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(path.join(src, 'data.bin'))), 'data.bin differs')
})

test('we seed and announce to a loopback DHT; libtorrent finds us from the magnet link alone and downloads', { skip }, async (t) => {
  const dht = await loopbackDht(t)
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 2 * 1024 * 1024 + 9)
  const seeder = await localClient(t, undefined, [dht])
  // A v1 torrent: given a hybrid's magnet, libtorrent 2.0.8 learns our address under both
  // infohashes from the DHT and, when the v2 answer lands while its v1 handshake is in flight,
  // drops our (correct) v1 answer as "invalid info-hash" and waits a minute to retry (README).
  // Hybrids found by the DHT are tested with btmh-only magnets (libtorrent-hybrid-v2hash).
  const magnet = await seeder.seed(file, { version: 1 })
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, '--dht', dht], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.ok(got.clients.some((c) => c.name.startsWith('trackerless ')), 'libtorrent did not download from us')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})
