import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent, type Archive } from '../../index.js'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import { pieceHashes, tmpDir, writeRandomFile, once, until } from '../helpers/fixtures.js'
import { RawPeer, rawServer, scene } from '../hostile/raw-peer.js'

const MiB = 1024 * 1024

async function client (t: import('node:test').TestContext, storage?: string): Promise<Torrent> {
  const c = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', ...(storage !== undefined ? { storage } : {}) })
  await c.start()
  t.after(() => c.stop())
  return c
}

async function done (archive: Archive): Promise<void> {
  if (archive.progress < 1) await once(archive, 'done', 60_000)
}

test('a multi-file archive downloads by magnet with x.pe into a folder, byte for byte', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'site')
  await writeRandomFile(path.join(src, 'video.bin'), 64 * MiB)
  await fs.mkdir(path.join(src, 'docs/deep/er'), { recursive: true })
  await fs.writeFile(path.join(src, 'index.html'), '<h1>Hello</h1>')
  await fs.writeFile(path.join(src, 'docs/deep/er/note.txt'), 'nested')
  await writeRandomFile(path.join(src, 'docs/small.bin'), 40_000)
  await fs.writeFile(path.join(src, 'empty'), '')

  const seeder = await client(t)
  const magnet = await seeder.seed(src)
  const out = path.join(dir, 'out')
  const leecher = await client(t, out)
  const archive = await leecher.lookup(`${magnet}&x.pe=127.0.0.1:${seeder.port}`, { download: 'all', timeout: 10_000 })
  assert.equal(archive.name, 'site')
  await done(archive)

  for (const file of ['video.bin', 'index.html', 'docs/deep/er/note.txt', 'docs/small.bin', 'empty']) {
    const want = await fs.readFile(path.join(src, file))
    const got = await fs.readFile(path.join(out, 'site', file))
    assert.ok(got.equals(want), `${file} differs`)
  }
  assert.equal(await archive.readFile('/docs/deep/er/note.txt', 'utf8'), 'nested')
  assert.deepEqual(await archive.readdir('/'), ['docs', 'empty', 'index.html', 'video.bin'])
})

test('seeding the same files twice gives the same magnet link', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'a/x.bin'), 3 * MiB + 5)
  await fs.writeFile(path.join(dir, 'a/y.txt'), 'y')
  const one = await client(t)
  const two = await client(t)
  assert.equal(await one.seed(path.join(dir, 'a')), await two.seed(path.join(dir, 'a')))
})

test('one seeder and four leechers: the leechers trade pieces among themselves', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 48 * MiB)
  const seeder = await client(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))
  const leechers = await Promise.all([0, 1, 2, 3].map(() => client(t)))
  const archives = await Promise.all(leechers.map((c) => c.lookup(magnet, { download: 'all', peers: [`127.0.0.1:${seeder.port}`] })))
  // Each leecher also knows the others (discovery is another module's job; here we name them).
  archives.forEach((_, i) => {
    for (let j = 0; j < leechers.length; j++) if (j !== i) void leechers[i]!.lookup(magnet, { peers: [`127.0.0.1:${leechers[j]!.port}`] })
  })
  await Promise.all(archives.map(done))

  const want = await fs.readFile(path.join(dir, 'data.bin'))
  for (const archive of archives) assert.ok((await archive.readFile('/data.bin') as Buffer).equals(want))
  const traded = archives.map((a) => a.uploaded)
  assert.ok(traded.filter((bytes) => bytes > 0).length >= 2, `leechers uploaded ${traded.join(', ')} bytes: expected at least two to share`)
})

test('peers that dial each other at once keep one connection per pair, the same one at both ends', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 1 * MiB)
  const seeder = await client(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))
  const clients = await Promise.all([0, 1, 2, 3, 4, 5].map(() => client(t)))
  const everyone = [seeder, ...clients].map((c) => `127.0.0.1:${c.port}`)
  // Lazy: nobody downloads, so nobody becomes a seed and drops a seed it no longer needs.
  const archives = await Promise.all(clients.map((c) =>
    c.lookup(magnet, { download: 'lazy', peers: everyone.filter((a) => a !== `127.0.0.1:${c.port}`) })))
  const all = clients.length
  await until(() => archives.every((a) => a.peers.length === all), 10_000, `${all} peers each`)
  // A pair that dropped different connections at its two ends would lose both a moment later.
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.deepEqual(archives.map((a) => a.peers.length), archives.map(() => all))
})

test('end-game asks for a block twice only when a peer has nothing else to do: few blocks arrive twice', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 32 * MiB)
  const seeders = await Promise.all([0, 1, 2].map(() => client(t)))
  const magnets = await Promise.all(seeders.map((s) => s.seed(path.join(dir, 'data.bin'))))
  const leecher = await client(t)
  const archive = await leecher.lookup(magnets[0]!, { download: 'all', peers: seeders.map((s) => `127.0.0.1:${s.port}`) })
  await done(archive)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(path.join(dir, 'data.bin'))))
  // Filling every peer's queue with the blocks others are sending (the old end-game) received
  // several MiB twice here; asking only when idle, one block at a time, a handful.
  const twice = archive.downloaded - archive.length
  assert.ok(twice <= 1 * MiB, `${twice} bytes arrived twice`)
})

test('four seeds that unchoke at once share the partial-piece budget: none is asked for more than a quarter', async (t) => {
  // 1 MiB pieces: the default budget (8 MiB) holds eight partial pieces, 512 blocks, 128 per seed.
  const data = randomBytes(96 * MiB)
  const meta = createMetainfo({ name: 'data.bin', files: layoutFiles([{ path: 'data.bin', length: data.length }], MiB), pieceLength: MiB, pieceHashes: pieceHashes(data, MiB), multiFile: false })
  const seeds: RawPeer[] = []
  const interested = new Set<RawPeer>()
  const outstanding = new Map<RawPeer, number>()
  const most = new Map<RawPeer, number>()
  const served = new Map<RawPeer, number>()
  const servers = await Promise.all([0, 1, 2, 3].map(() => rawServer(t, (socket) => {
    const seed = new RawPeer(socket, { infoHash: meta.infoHash })
    seed.onFrame((f) => {
      // Counted once it shook hands: a plain-text peer, it also sees the dialler's encryption
      // handshake, on a connection of its own that closes at once.
      if (f.type === 'handshake') {
        seeds.push(seed)
        seed.send({ type: 'have-all' })
      }
      if (f.type === 'interested') interested.add(seed)
      if (f.type !== 'request') return
      outstanding.set(seed, (outstanding.get(seed) ?? 0) + 1)
      most.set(seed, Math.max(most.get(seed) ?? 0, outstanding.get(seed)!))
      // Answered on the next turn, as a peer across a socket would: requests sent together add up.
      setImmediate(() => {
        outstanding.set(seed, outstanding.get(seed)! - 1)
        served.set(seed, (served.get(seed) ?? 0) + f.length)
        const begin = f.index * MiB + f.begin
        seed.send({ type: 'piece', index: f.index, begin: f.begin, block: data.subarray(begin, begin + f.length) })
      })
    })
  })))
  const leecher = await client(t)
  const archive = await leecher.lookup(encodeTorrentFile(meta), { download: 'all', peers: servers.map((s) => s.address) })
  // Every seed unchokes once the leecher is interested in all four, so all four count from the start.
  await until(() => interested.size === 4, 10_000, 'the leecher interested in all four seeds')
  for (const seed of seeds) seed.send({ type: 'unchoke' })
  await done(archive)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(data))
  // When a peer's window was what its rate drains in a second (250 blocks, four pieces, on
  // loopback), the fastest peer held the pieces the budget allows and the others waited.
  const asked = seeds.map((s) => most.get(s) ?? 0)
  assert.ok(asked.every((n) => n <= 128), `most requests outstanding at once per seed: ${asked.join(', ')}`)
  const sent = seeds.map((s) => served.get(s) ?? 0)
  assert.ok(sent.every((bytes) => bytes >= data.length / 8), `the seeds sent ${sent.map((b) => (b / MiB).toFixed(1)).join(', ')} MiB of 96`)
})

test('seed(path, { name }) names the torrent and reads the files where they are; torrentFile() gives its .torrent', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'folder', 'a.bin'), 300_000)
  await fs.writeFile(path.join(dir, 'single.txt'), 'one file')
  const seeder = await client(t)
  const leecher = await client(t)
  for (const [source, file] of [[path.join(dir, 'folder'), '/a.bin'], [path.join(dir, 'single.txt'), '/renamed']] as const) {
    const magnet = await seeder.seed(source, { name: 'renamed' })
    const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
    assert.equal(archive.name, 'renamed')
    const want = await fs.readFile(source.endsWith('.txt') ? source : path.join(source, 'a.bin'))
    assert.ok((await archive.readFile(file) as Buffer).equals(want))
    const torrent = seeder.torrentFile(magnet)
    assert.ok(torrent !== null)
    const again = await leecher.lookup(torrent, { peers: [`127.0.0.1:${seeder.port}`] })
    assert.equal(again.infoHash, archive.infoHash, 'the .torrent hashes to the magnet link\'s infohash')
  }
  assert.equal(seeder.torrentFile('0'.repeat(40)), null)
})

test('a seed keeps eight interested peers unchoked at once, not four', async (t) => {
  const s = await scene(t)
  const peers = await Promise.all(Array.from({ length: 9 }, () => RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })))
  t.after(() => { for (const p of peers) p.destroy() })
  const unchoked = new Set<RawPeer>()
  for (const peer of peers) {
    peer.onFrame((f) => {
      if (f.type === 'unchoke') unchoked.add(peer)
      if (f.type === 'choke') unchoked.delete(peer)
    })
    peer.send({ type: 'have-none' })
    peer.send({ type: 'interested' })
  }
  await until(() => unchoked.size >= 8, 10_000, 'eight peers unchoked at the same time')
})
