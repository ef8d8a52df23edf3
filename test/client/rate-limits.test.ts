import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Archive, Torrent, type TorrentOptions } from '../../index.js'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'

const MiB = 2 ** 20
/** The window each rate is measured over: the "within 10 % over 10 s", shortened. */
const SECONDS = 6
const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const

async function client (t: TestContext, opts: TorrentOptions = {}): Promise<Torrent> {
  const c = new Torrent({ ...LOCAL, ...opts })
  t.after(() => c.stop())
  await c.start()
  return c
}

async function randomFile (t: TestContext, name: string, size: number): Promise<string> {
  const file = path.join(await tmpDir(t, 'tl-limits-'), name)
  await writeRandomFile(file, size)
  return file
}

/**
 * Bytes per second each counter grew over SECONDS, from a second after all of them have moved
 * (connections and metadata done, and the burst a bucket saved while idle spent): the limit is
 * what the test's own setup says.
 */
async function rates (counters: Array<() => number>): Promise<number[]> {
  await until(() => counters.every((c) => c() > 0), 20_000, 'every transfer started')
  await sleep(1000)
  const start = performance.now()
  const before = counters.map((c) => c())
  await sleep(SECONDS * 1000)
  const seconds = (performance.now() - start) / 1000
  return counters.map((c, i) => (c() - before[i]!) / seconds)
}

function near (t: TestContext, rate: number, limit: number, what: string): void {
  const seen = `${what}: ${(rate / MiB).toFixed(3)} MiB/s, limit ${(limit / MiB).toFixed(3)} MiB/s`
  t.diagnostic(seen)
  assert.ok(Math.abs(rate - limit) <= limit * 0.1, seen)
}

test('client limits: downloadLimit paces a download and uploadLimit a seeder, each within 10 %', async (t) => {
  const LIMIT = 2 * MiB
  const file = await randomFile(t, 'data.bin', 20 * MiB)
  const [seeder, leecher, limitedSeeder, fastLeecher] = await Promise.all([
    client(t), client(t, { downloadLimit: LIMIT }), client(t, { uploadLimit: LIMIT }), client(t)
  ])
  const [magnet] = await Promise.all([seeder.seed(file), limitedSeeder.seed(file)])
  const [down] = await Promise.all([
    leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], download: 'all' }),
    fastLeecher.lookup(magnet, { peers: [`127.0.0.1:${limitedSeeder.port}`], download: 'all' })
  ])
  const [downRate, upRate] = await rates([() => down.stats().downloaded, () => limitedSeeder.stats().uploaded])
  near(t, downRate!, LIMIT, 'download under downloadLimit')
  near(t, upRate!, LIMIT, 'upload under uploadLimit')
})

test('torrent limits: a lookup limit under the client limit, the rest to the other torrent, and archive.setLimits on a seeder', async (t) => {
  const CLIENT = 2 * MiB
  const TORRENT = MiB / 2
  const [x, y, z] = await Promise.all([randomFile(t, 'x.bin', 8 * MiB), randomFile(t, 'y.bin', 16 * MiB), randomFile(t, 'z.bin', 10 * MiB)])
  const [seeder, leecher, other] = await Promise.all([client(t), client(t, { downloadLimit: CLIENT }), client(t)])
  const [mx, my, mz] = [await seeder.seed(x), await seeder.seed(y), await seeder.seed(z, { uploadLimit: 4 * MiB })]
  const own = await seeder.lookup(mz)
  assert.deepEqual(own.limits, { downloadLimit: 0, uploadLimit: 4 * MiB }, "seed()'s limit")
  own.setLimits({ uploadLimit: MiB })
  assert.deepEqual(own.limits, { downloadLimit: 0, uploadLimit: MiB })
  const peers = [`127.0.0.1:${seeder.port}`]
  const [ax, ay] = await Promise.all([
    leecher.lookup(mx, { peers, download: 'all', downloadLimit: TORRENT }),
    leecher.lookup(my, { peers, download: 'all' }),
    other.lookup(mz, { peers, download: 'all' })
  ])
  assert.deepEqual(ax.limits, { downloadLimit: TORRENT, uploadLimit: 0 })
  const uploadedZ = (): number => seeder.torrents().find((i) => i.infoHash === own.infoHash)?.stats.uploaded ?? 0
  const [rx, ry, rz] = await rates([() => ax.stats().downloaded, () => ay.stats().downloaded, uploadedZ])
  near(t, rx!, TORRENT, 'the torrent with its own limit')
  near(t, rx! + ry!, CLIENT, 'both torrents under the client limit')
  near(t, rz!, MiB, 'the seeded torrent under archive.setLimits')
})

test('bad limits are refused where they are given, naming the option', async (t) => {
  assert.throws(() => new Torrent({ ...LOCAL, downloadLimit: -1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"downloadLimit"/ })
  assert.throws(() => new Torrent({ ...LOCAL, uploadLimit: NaN }), { code: 'ERR_INVALID_ARG_VALUE', message: /"uploadLimit"/ })
  const c = await client(t)
  await assert.rejects(c.lookup('0'.repeat(40), { uploadLimit: -5 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"uploadLimit"/ })
  await assert.rejects(c.seed(new Archive(), { uploadLimit: -5 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"uploadLimit"/ })
  assert.equal(c.torrents().length, 0, 'nothing was opened')
  const draft = new Archive()
  assert.throws(() => draft.setLimits({ downloadLimit: NaN }), { code: 'ERR_INVALID_ARG_VALUE', message: /"downloadLimit"/ })
  draft.setLimits({ downloadLimit: 5 })
  assert.deepEqual(draft.limits, { downloadLimit: 0, uploadLimit: 0 }, 'a draft not seeded has no torrent to limit')
})
