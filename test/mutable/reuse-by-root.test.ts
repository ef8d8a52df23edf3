import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Torrent, Archive, createKeypair } from '../../index.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { once } from '../helpers/fixtures.js'

const MiB = 1024 * 1024

async function draft (files: Record<string, Buffer>): Promise<Archive> {
  const archive = new Archive()
  for (const [path, data] of Object.entries(files)) await archive.writeFile(path, data)
  return archive
}

test('moving to a version with another piece length and paths reuses every file whose v2 root is unchanged: only the changed file is downloaded', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const all = [0, 1].map(() => new Torrent({ dht: [net.bootstrap], lsd: false, host: '127.0.0.1' }))
  t.after(() => Promise.all(all.map((c) => c.stop())))
  await Promise.all(all.map((c) => c.start()))
  const [publisher, reader] = all as [Torrent, Torrent]
  const { publicKey, privateKey } = await createKeypair()
  // 30 MiB take 16 KiB pieces; with one file grown to 12 MiB the 39 MiB take 32 KiB pieces
  // (choosePieceLength), so no piece of the new version has the SHA-1 of an old one.
  const files: Record<string, Buffer> = {}
  for (let i = 0; i < 10; i++) files[`/file-${i}.bin`] = randomBytes(3 * MiB)
  const first = await publisher.seed(await draft(files))
  const link = await publisher.publish(first, publicKey, privateKey)
  const archive = await reader.lookup(link, { download: 'all', updateInterval: 100, timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 60_000)

  // Every file also moves into a folder, so neither the resume scan (by path) nor the piece
  // hashes find the old data: only the roots do.
  const changed = randomBytes(12 * MiB)
  const moved = Object.fromEntries(Object.entries({ ...files, '/file-4.bin': changed }).map(([path, data]) => [`/moved${path}`, data]))
  const second = await publisher.seed(await draft(moved))
  const [old, next] = [first, second].map((m) => parseTorrent(publisher.torrentFile(m)!))
  assert.equal(old!.version, 'hybrid')
  assert.notEqual(old!.pieceLength, next!.pieceLength, 'the two versions share no piece length')
  await publisher.publish(second, publicKey, privateKey)
  await once(archive, 'update', 20_000)
  if (archive.progress < 1) await once(archive, 'done', 60_000)

  assert.ok((await archive.readFile('/moved/file-4.bin') as Buffer).equals(changed))
  assert.ok((await archive.readFile('/moved/file-7.bin') as Buffer).equals(files['/file-7.bin']!))
  // archive.downloaded counts the new version's piece data from peers.
  assert.ok(archive.downloaded <= 12 * MiB * 1.05, `moving to the next version downloaded ${archive.downloaded} bytes for one changed 12 MiB file`)
  assert.ok(archive.downloaded >= 12 * MiB, 'the changed file itself had to be downloaded')
})
