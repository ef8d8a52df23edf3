import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { formatMagnet, parseMagnet } from '../../lib/metainfo/magnet.js'
import { once, tmpDir } from '../helpers/fixtures.js'
import { served, startMirror, torrentOf } from './mirror.js'
import { DEFAULT_WEB_SEED_TUNING } from '../../lib/webseed/web-seeds.js'

const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const
const PIECE = 16 * 1024

async function client (t: TestContext): Promise<Torrent> {
  const c = new Torrent(LOCAL)
  t.after(() => c.stop())
  await c.start()
  return c
}

test('a single-file torrent whose only source is a web seed downloads completely', async (t) => {
  const data = randomBytes(5 * PIECE + 123)
  const files = new Map([['big file #1.iso', data]])
  const mirror = await startMirror(t, served('big file #1.iso', files, false))
  const { bytes } = torrentOf('big file #1.iso', files, PIECE, [mirror.url], false)
  const leecher = await client(t)
  const archive = await leecher.lookup(bytes, { timeout: 10_000 })
  const got = await archive.readFile('/big file #1.iso', { signal: AbortSignal.timeout(20_000) })
  assert.ok(Buffer.from(got).equals(data))
  if (archive.progress < 1) await once(archive, 'done', 10_000)
  const stats = archive.stats()
  assert.equal(stats.downloaded, data.length, 'web seed bytes count as downloaded')
  assert.deepEqual(stats.webSeeds.map((s) => [s.url, s.state, s.downloaded]), [[mirror.url, 'active', data.length]])
  assert.ok(mirror.requests.every((p) => p === '/big%20file%20%231.iso'), mirror.requests.join(' '))
})

test('a multi-file torrent from a web seed, names percent-encoded, with a bad mirror dropped on the way', async (t) => {
  const files = new Map([['a b/c%d.bin', randomBytes(2 * PIECE + 5)], ['ü.txt', randomBytes(PIECE * 3 - 9)], ['z', randomBytes(10)]])
  const bad = await startMirror(t, served('my archive', files), { kind: 'corrupt' })
  const good = await startMirror(t, served('my archive', files))
  const { bytes } = torrentOf('my archive', files, PIECE, [bad.url, good.url])
  const leecher = await client(t)
  const archive = await leecher.lookup(bytes, { download: 'all', timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  for (const [name, data] of files) assert.ok(Buffer.from(await archive.readFile(`/${name}`)).equals(data), name)
  const [badState, goodState] = archive.stats().webSeeds
  assert.equal(badState!.state, 'dropped')
  assert.match(badState!.reason!, /failed its SHA-1 check/)
  assert.equal(goodState!.state, 'active')
  assert.ok(good.requests.includes('/my%20archive/a%20b/c%25d.bin'), good.requests.join(' '))
})

test('seed --web-seed: the torrent and link name the mirror, and a leecher uses it with the seeder', async (t) => {
  const dir = await tmpDir(t, 'tl-webseed-')
  const root = path.join(dir, 'pub')
  const files = new Map([['x.bin', randomBytes(6 * PIECE)], ['y.bin', randomBytes(PIECE + 1)]])
  for (const [name, data] of files) {
    await fs.mkdir(root, { recursive: true })
    await fs.writeFile(path.join(root, name), data)
  }
  const mirror = await startMirror(t, served('pub', files))
  const seeder = await client(t)
  const magnet = await seeder.seed(root, { webSeeds: [mirror.url] })
  assert.deepEqual(parseMagnet(magnet).webSeeds, [mirror.url])
  const bytes = seeder.torrentFile(magnet)!
  assert.deepEqual(parseTorrent(bytes).webSeeds, [mirror.url])
  const leecher = await client(t)
  const archive = await leecher.lookup(bytes, { download: 'all', peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  for (const [name, data] of files) assert.ok(Buffer.from(await archive.readFile(`/${name}`)).equals(data), name)
  const stats = archive.stats()
  assert.ok(mirror.requests.length > 0, 'the mirror was asked')
  assert.ok(stats.webSeeds[0]!.downloaded > 0 && stats.webSeeds[0]!.downloaded <= stats.downloaded)
  await assert.rejects(seeder.seed(root, { webSeeds: ['ftp://127.0.0.1/'] }), { code: 'EINVAL' })
})

test('a magnet with ws=: metadata from a peer, then the mirror it names is one more source', async (t) => {
  const dir = await tmpDir(t, 'tl-webseed-')
  const file = path.join(dir, 'm.bin')
  const data = randomBytes(8 * PIECE)
  await fs.writeFile(file, data)
  const mirror = await startMirror(t, served('m.bin', new Map([['m.bin', data]]), false))
  // Metadata comes from the seeder; the mirror takes pieces the moment it is known (before any
  // peer's request) and no peer is asked for a piece a mirror has started.
  const seeder = await client(t)
  const plain = await seeder.seed(file)
  const magnet = formatMagnet({ ...parseMagnet(plain), webSeeds: [mirror.url], peers: [`127.0.0.1:${seeder.port}`] })
  const leecher = await client(t)
  const archive = await leecher.lookup(magnet, { download: 'all', timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  assert.ok(Buffer.from(await archive.readFile('/m.bin')).equals(data))
  const [state] = archive.stats().webSeeds
  assert.equal(state!.url, mirror.url)
  assert.ok(state!.downloaded > 0, 'the mirror gave pieces')
  assert.deepEqual(parseTorrent(leecher.torrentFile(magnet)!).webSeeds, [mirror.url], 'the .torrent we write names it')
})

test('a mirror\'s connections are kept alive between pieces: at most as many as pieces in flight', async (t) => {
  const data = randomBytes(40 * PIECE + 7)
  const files = new Map([['many.bin', data]])
  const mirror = await startMirror(t, served('many.bin', files, false))
  const { bytes } = torrentOf('many.bin', files, PIECE, [mirror.url], false)
  const leecher = await client(t)
  const archive = await leecher.lookup(bytes, { timeout: 10_000, download: 'all' })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  assert.ok(Buffer.from(await archive.readFile('/many.bin')).equals(data))
  assert.equal(mirror.requests.length, 41, 'one request per piece')
  assert.ok(mirror.connections <= DEFAULT_WEB_SEED_TUNING.piecesPerSeed, `${mirror.connections} connections for ${mirror.requests.length} requests`)
})
