import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { tmpDir, writeRandomFile, once, until } from '../helpers/fixtures.js'
import { localClient, addressOf, rejection } from './local.js'

const MiB = 1024 * 1024

test('lookup by 40-hex infohash with peers, by .torrent bytes and by .torrent path', async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 2 * MiB + 7)
  const want = await fs.readFile(file)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(file)
  const meta = await buildMetainfo(await readTree(file), directoryStorage(dir))
  const torrentBytes = encodeTorrentFile(meta)
  const torrentPath = path.join(dir, 'data.torrent')
  await fs.writeFile(torrentPath, torrentBytes)
  const hex = meta.infoHash.toString('hex')
  assert.ok(magnet.includes(hex))

  for (const url of [hex, hex.toUpperCase(), torrentBytes, torrentPath]) {
    const reader = await localClient(t)
    const archive = await reader.lookup(url, { peers: [addressOf(seeder)], timeout: 10_000 })
    assert.equal(archive.infoHash, hex)
    assert.ok((await archive.readFile('/data.bin')).equals(want))
  }
})

test('lookup rejects with EINVALIDURL, EBADTORRENT, ETIMEDOUT, ENOTSTARTED and ECLOSED', async (t) => {
  const dir = await tmpDir(t)
  const garbage = path.join(dir, 'garbage.torrent')
  await fs.writeFile(garbage, 'd4:infoi3ee')
  const client = await localClient(t)
  const cases: Array<[string | Uint8Array, string]> = [
    ['magnet:?xt=urn:btih:xyz', 'EINVALIDURL'],
    ['not a link and not a file', 'EINVALIDURL'],
    ['0123456789abcdef', 'EINVALIDURL'],
    [Buffer.from('this is not bencode'), 'EBADTORRENT'],
    [Buffer.from('d4:infod4:name1:xee'), 'EBADTORRENT'],
    [garbage, 'EBADTORRENT']
  ]
  for (const [url, code] of cases) {
    const err = await rejection(client.lookup(url))
    assert.equal(err.code, code, `${String(url)}: ${err.message}`)
  }

  const timedOut = await rejection(client.lookup(randomBytes(20).toString('hex'), { timeout: 200 }))
  assert.equal(timedOut.code, 'ETIMEDOUT')
  assert.match(timedOut.message, /timeout/)

  const unstarted = new Torrent({ dht: false, lsd: false })
  assert.equal((await rejection(unstarted.lookup(randomBytes(20).toString('hex')))).code, 'ENOTSTARTED')
  assert.equal((await rejection(unstarted.seed(new Torrent.Archive()))).code, 'ENOTSTARTED')
  await unstarted.stop()

  const stopped = await localClient(t)
  await stopped.stop()
  assert.equal((await rejection(stopped.lookup(randomBytes(20).toString('hex')))).code, 'ECLOSED')
})

test('an AbortSignal cancels a pending lookup, and an aborted signal fails at once', async (t) => {
  const client = await localClient(t)
  const infoHash = randomBytes(20).toString('hex')
  const controller = new AbortController()
  const pending = client.lookup(infoHash, { signal: controller.signal, timeout: 60_000 })
  setImmediate(() => controller.abort())
  assert.equal((await rejection(pending)).code, 'EABORTED')
  assert.equal((await rejection(client.lookup(infoHash, { signal: AbortSignal.abort() }))).code, 'EABORTED')
  // The aborted lookup let go of the torrent: a new one starts afresh and times out on its own.
  assert.equal((await rejection(client.lookup(infoHash, { timeout: 100 }))).code, 'ETIMEDOUT')
})

test("download: 'lazy' fetches only what is read; 'all' fetches everything", async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 8 * MiB)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))

  const lazyClient = await localClient(t)
  const lazy = await lazyClient.lookup(magnet, { peers: [addressOf(seeder)], download: 'lazy' })
  const head = lazy.createReadStream('/data.bin', { start: 0, end: 99 })
  for await (const chunk of head) assert.ok(chunk.length > 0)
  assert.ok(lazy.progress > 0 && lazy.progress < 0.5, `lazy progress after a 100-byte read: ${lazy.progress}`)

  const allClient = await localClient(t)
  const all = await allClient.lookup(magnet, { peers: [addressOf(seeder)], download: 'all' })
  if (all.progress < 1) await once(all, 'done', 30_000)
  assert.equal(all.progress, 1)
})

test('seed: false stops uploading once the download is done', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 2 * MiB)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))

  const leecher = await localClient(t)
  const leeched = await leecher.lookup(magnet, { peers: [addressOf(seeder)], download: 'all', seed: false })
  if (leeched.progress < 1) await once(leeched, 'done', 30_000)
  const keeper = await localClient(t)
  const kept = await keeper.lookup(magnet, { peers: [addressOf(seeder)], download: 'all' })
  if (kept.progress < 1) await once(kept, 'done', 30_000)
  await seeder.stop()

  // Of the two finished leechers, the one that keeps seeding serves, the other does not.
  const fromKeeper = await localClient(t)
  const served = await fromKeeper.lookup(magnet, { peers: [addressOf(keeper)] })
  assert.equal((await served.readFile('/data.bin')).length, 2 * MiB)
  await Promise.all([keeper.stop(), fromKeeper.stop()])

  const fromLeecher = await localClient(t)
  const refused = await fromLeecher.lookup(magnet, { peers: [addressOf(leecher)] })
  await until(() => refused.peers.length === 1, 10_000, 'connected to the non-seeding leecher')
  const uploadedBefore = leeched.uploaded
  const err = await rejection(refused.readFile('/data.bin', { signal: AbortSignal.timeout(1000) }))
  assert.equal(err.code, 'EABORTED')
  assert.equal(leeched.uploaded, uploadedBefore)
})
