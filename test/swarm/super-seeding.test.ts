/**
 * BEP16 on the wire: a super-seeding seed tells a peer it has nothing, then offers one piece by
 * HAVE, serves only the pieces it offered, and offers the next one once the piece is passed on.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import fs from 'node:fs/promises'
import { Torrent, directoryStorage } from '../../index.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import type { Frame } from '../../lib/wire/codec.js'
import { RawPeer } from '../hostile/raw-peer.js'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'

const PIECE = 16 * 1024
const PIECES = 8

async function superSeeder (t: TestContext): Promise<{ seeder: Torrent, magnet: string, file: string }> {
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, PIECES * PIECE)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1' })
  t.after(() => seeder.stop())
  await seeder.start()
  const magnet = await seeder.seed(file, { superSeed: true, version: 1 })
  return { seeder, magnet, file }
}

test('a super-seeding seed says HAVE-NONE, offers one piece by HAVE, rejects requests for others, and offers the next once the first is passed on', async (t) => {
  const { seeder, magnet, file } = await superSeeder(t)
  const data = await fs.readFile(file)
  const infoHash = parseMagnet(magnet).infoHash!
  const peer = RawPeer.connect(seeder.port, { infoHash })
  t.after(() => peer.destroy())
  const frames: Frame[] = []
  peer.onFrame((f) => frames.push(f))
  peer.send({ type: 'have-none' })
  await until(() => frames.some((f) => f.type === 'have'), 10_000, 'a piece offered')
  const first = frames.find((f) => f.type === 'have')!
  assert.ok(first.type === 'have')
  assert.ok(frames.some((f) => f.type === 'have-none'), 'told HAVE-NONE first')
  assert.ok(!frames.some((f) => f.type === 'bitfield' || f.type === 'have-all'), 'a super-seed never shows its whole bitfield')

  const unchoked = peer.next((f) => f.type === 'unchoke', 15_000)
  peer.send({ type: 'interested' })
  await unchoked
  const other = (first.index + 1) % PIECES
  const rejected = peer.next((f) => f.type === 'reject', 10_000)
  peer.send({ type: 'request', index: other, begin: 0, length: PIECE })
  const reject = await rejected
  assert.ok(reject.type === 'reject' && reject.index === other, 'a piece not offered is rejected')
  const served = peer.next((f) => f.type === 'piece', 10_000)
  peer.send({ type: 'request', index: first.index, begin: 0, length: PIECE })
  const block = await served
  assert.ok(block.type === 'piece' && block.block.equals(data.subarray(first.index * PIECE, (first.index + 1) * PIECE)))

  // Alone, the peer has nobody to pass the piece to: announcing it releases the next offer.
  const next = peer.next((f) => f.type === 'have' && f.index !== first.index, 10_000)
  peer.send({ type: 'have', index: first.index })
  const second = await next
  assert.ok(second.type === 'have' && second.index !== first.index)
  assert.equal(frames.filter((f) => f.type === 'have').length, 2, 'one offer at a time')
})

test('two leechers complete from a super-seeding seed, passing pieces to each other', async (t) => {
  const { seeder, magnet, file } = await superSeeder(t)
  const data = await fs.readFile(file)
  const make = async (): Promise<Torrent> => {
    const c = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1' })
    t.after(() => c.stop())
    await c.start()
    return c
  }
  const [a, b] = await Promise.all([make(), make()])
  const seederAddress = `127.0.0.1:${seeder.port}`
  const archiveA = await a.lookup(magnet, { peers: [seederAddress], download: 'all', timeout: 10_000 })
  const archiveB = await b.lookup(magnet, { peers: [seederAddress, `127.0.0.1:${a.port}`], download: 'all', timeout: 10_000 })
  const [gotA, gotB] = await Promise.all([archiveA, archiveB].map((x) => x.readFile('/data.bin', { signal: AbortSignal.timeout(60_000) })))
  assert.ok((gotA as Buffer).equals(data) && (gotB as Buffer).equals(data))
  assert.ok(archiveA.uploaded + archiveB.uploaded > 0, 'the leechers passed pieces to each other')
  // A plain seed may send each leecher every piece (two copies); a super-seed gives each piece to
  // one peer until it is seen elsewhere, so the leechers must fill in the rest from each other.
  assert.ok(seeder.stats().uploaded < 2 * data.length, `the seed sent ${seeder.stats().uploaded} bytes of ${2 * data.length}`)
})

test('lookup({ superSeed }) on data already complete super-seeds too (a seeder restarted on its files)', async (t) => {
  const { seeder, magnet, file } = await superSeeder(t)
  const torrentFile = seeder.torrentFile(magnet)!
  await seeder.stop()
  const restarted = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1', storage: directoryStorage(path.dirname(file), { overwrite: true }) })
  t.after(() => restarted.stop())
  await restarted.start()
  const archive = await restarted.lookup(torrentFile, { download: 'all', superSeed: true })
  await until(() => archive.progress === 1, 10_000, 'the data checked complete')
  const peer = RawPeer.connect(restarted.port, { infoHash: parseMagnet(magnet).infoHash! })
  t.after(() => peer.destroy())
  const frames: Frame[] = []
  peer.onFrame((f) => frames.push(f))
  peer.send({ type: 'have-none' })
  await until(() => frames.some((f) => f.type === 'have'), 10_000, 'a piece offered')
  assert.ok(frames.some((f) => f.type === 'have-none'), 'told HAVE-NONE first')
  assert.ok(!frames.some((f) => f.type === 'bitfield' || f.type === 'have-all'), 'the whole bitfield never shown')
  assert.equal(frames.filter((f) => f.type === 'have').length, 1, 'one offer at a time')
})
