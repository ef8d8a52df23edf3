import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { Archive, Torrent } from '../../index.js'
import { STATS_INTERVAL } from '../../lib/archive/stats-emitter.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { scene } from '../hostile/raw-peer.js'

const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const
/** 64 pieces of the smallest chosen piece length. */
const SIZE = 64 * 16 * 1024

test('stats() of both ends of a download: bytes, speeds, ratio, ETA and where the peer came from', async (t) => {
  const { seeder, leecher, magnet, seederAddress } = await scene(t, SIZE)
  const archive = await leecher.lookup(magnet, { peers: [seederAddress], timeout: 10_000 })
  const before = archive.stats()
  assert.equal(before.downloaded, 0)
  assert.equal(before.eta, Infinity, 'nothing arrives, so no ETA')
  assert.equal(before.ratio, 0)

  // Once complete, both ends only upload and close the connection (BEP21): look at both halfway.
  const halves: Array<{ got: ReturnType<typeof archive.stats>, seeding: ReturnType<typeof seeder.torrents>[number], peers: number }> = []
  archive.on('progress', (progress) => {
    if (halves.length === 0 && progress >= 0.5) halves.push({ got: archive.stats(), seeding: seeder.torrents()[0]!, peers: seeder.stats().peers })
  })
  await archive.readFile('/data.bin', { signal: AbortSignal.timeout(20_000) })
  if (archive.progress < 1) await once(archive, 'done', 10_000)
  const got = archive.stats()
  assert.equal(got.downloaded, SIZE)
  assert.equal(got.uploaded, 0)
  assert.equal(got.eta, 0)
  const mid = halves[0]!
  assert.ok(mid !== undefined)
  // The speed is the last 5 s of the connected peers: never more than a fifth of what arrived.
  assert.ok(mid.got.downloadSpeed > 0 && mid.got.downloadSpeed <= SIZE / 5, `download speed ${mid.got.downloadSpeed}`)
  assert.deepEqual(mid.got.peers, { total: 1, bySource: { named: 1, discovery: 0, pex: 0, incoming: 0 }, byTransport: { tcp: 1 } })
  assert.ok(mid.seeding.stats.uploadSpeed > 0 && mid.seeding.stats.uploadSpeed <= SIZE / 5)
  assert.deepEqual(mid.seeding.stats.peers.bySource, { named: 0, discovery: 0, pex: 0, incoming: 1 })
  assert.equal(mid.peers, 1)

  const [seeding] = seeder.torrents()
  assert.equal(seeding!.stats.uploaded, SIZE)
  assert.equal(seeding!.stats.ratio, 0, 'the seeder downloaded nothing')
  const total = seeder.stats()
  assert.equal(total.uploaded, SIZE)
  assert.equal(total.torrents, 1)
  assert.equal(leecher.stats().downloaded, SIZE)
})

test("'stats' comes every second only while someone listens, and ends at close", async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), SIZE)
  const client = new Torrent(LOCAL)
  await client.start()
  t.after(() => client.stop())
  const magnet = await client.seed(path.join(dir, 'data.bin'))
  const archive = await client.lookup(magnet)
  // The timers started and stopped from here on: only the stats timer is of STATS_INTERVAL.
  const started = t.mock.method(globalThis, 'setInterval')
  const stopped = t.mock.method(globalThis, 'clearInterval')
  const statsTimers = (): number => started.mock.calls.filter((c) => c.arguments[1] === STATS_INTERVAL).length
  const onStats = (): void => {}
  assert.equal(statsTimers(), 0, 'no timer while nobody listens')
  archive.on('stats', onStats)
  archive.on('stats', onStats)
  assert.equal(statsTimers(), 1, 'listeners share one timer')
  const [stats] = await once(archive, 'stats', 5_000)
  assert.equal((stats as { eta: number }).eta, 0)
  const timer = started.mock.calls[0]!.result
  archive.off('stats', onStats)
  assert.equal(stopped.mock.callCount(), 0, 'one listener is left')
  archive.off('stats', onStats)
  assert.deepEqual(stopped.mock.calls.map((c) => c.arguments[0]), [timer], 'the last listener gone stops it')
  archive.on('stats', onStats)
  assert.equal(statsTimers(), 2)
  await archive.close()
  assert.equal(stopped.mock.calls[1]?.arguments[0], started.mock.calls[1]!.result, 'close stops it')
  archive.on('stats', onStats)
  assert.equal(statsTimers(), 2, 'a closed archive starts none')
})

test('a draft has zero stats', () => {
  const draft = new Archive()
  assert.deepEqual(draft.stats(), { downloaded: 0, uploaded: 0, downloadSpeed: 0, uploadSpeed: 0, ratio: 0, eta: 0, peers: { total: 0, bySource: { named: 0, discovery: 0, pex: 0, incoming: 0 }, byTransport: { tcp: 0 } }, webSeeds: [] })
})
