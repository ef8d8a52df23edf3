import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TorrentOptions } from '../../index.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { until } from '../helpers/fixtures.js'
import { MiB, RawPeer, scene } from '../hostile/raw-peer.js'

/** The window each rate is measured over: the "within 10 % over 10 s", shortened. */
const SECONDS = 6

/** Bytes per second `counter` grew over SECONDS, from a second after it first moved. */
async function rate (counter: () => number): Promise<number> {
  await until(() => counter() > 0, 20_000, 'the transfer started')
  await sleep(1000)
  const start = performance.now()
  const before = counter()
  await sleep(SECONDS * 1000)
  return (counter() - before) / ((performance.now() - start) / 1000)
}

function near (t: TestContext, seen: number, limit: number, what: string): void {
  const text = `${what}: ${(seen / MiB).toFixed(3)} MiB/s, limit ${(limit / MiB).toFixed(3)} MiB/s`
  t.diagnostic(text)
  assert.ok(Math.abs(seen - limit) <= limit * 0.1, text)
}

test('client.setLimits changes the client-wide limit of a running download', async (t) => {
  const leecherOptions: TorrentOptions = { downloadLimit: 4 * MiB }
  const s = await scene(t, 16 * MiB, {}, leecherOptions)
  assert.deepEqual(s.leecher.limits, { downloadLimit: 4 * MiB, uploadLimit: 0 })
  assert.throws(() => s.leecher.setLimits({ downloadLimit: -1, uploadLimit: 5 }), { code: 'ERR_INVALID_ARG_VALUE', message: /"downloadLimit"/ })
  assert.deepEqual(s.leecher.limits, { downloadLimit: 4 * MiB, uploadLimit: 0 }, 'a bad value changes nothing')
  const archive = await s.leecher.lookup(s.magnet, { peers: [s.seederAddress], download: 'all' })
  s.leecher.setLimits({ downloadLimit: MiB })
  assert.deepEqual(s.leecher.limits, { downloadLimit: MiB, uploadLimit: 0 }, 'undefined keeps uploadLimit')
  near(t, await rate(() => archive.stats().downloaded), MiB, 'after setLimits')
  s.leecher.setLimits({ downloadLimit: Infinity })
  assert.deepEqual(s.leecher.limits, { downloadLimit: 0, uploadLimit: 0 }, 'Infinity lifts the limit')
})

/**
 * A seeder that answers each request DELAY ms late and chokes every CYCLE ms, dropping what it
 * was asked (no fast extension, so no rejects): the tokens spent on those requests must come back,
 * or the download runs about DELAY / CYCLE below its limit.
 */
test('a limit is still met when the peer keeps choking: tokens of unanswered requests are refunded', async (t) => {
  const LIMIT = MiB
  const DELAY = 200
  const CYCLE = 500
  const s = await scene(t, 12 * MiB, {}, { downloadLimit: LIMIT })
  const data = await fs.readFile(s.file)
  const archive = await s.leecher.lookup(encodeTorrentFile(s.meta), { download: 'all' })
  const peer = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash, fast: false })
  t.after(() => peer.destroy())
  let generation = 0
  const timers = new Set<NodeJS.Timeout>()
  t.after(() => { for (const timer of timers) clearTimeout(timer) })
  peer.onFrame((f) => {
    if (f.type !== 'request') return
    const asked = generation
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (asked !== generation) return
      const at = f.index * s.meta.pieceLength + f.begin
      peer.send({ type: 'piece', index: f.index, begin: f.begin, block: data.subarray(at, at + f.length) })
    }, DELAY)
    timers.add(timer)
  })
  const bits = Buffer.alloc(Math.ceil(s.meta.pieceCount / 8))
  for (let i = 0; i < s.meta.pieceCount; i++) bits[i >> 3]! |= 0x80 >> (i & 7)
  peer.send({ type: 'bitfield', bitfield: bits })
  peer.send({ type: 'unchoke' })
  let chokes = 0
  const cycle = setInterval(() => {
    generation++
    chokes++
    peer.send({ type: 'choke' })
    peer.send({ type: 'unchoke' })
  }, CYCLE)
  t.after(() => clearInterval(cycle))
  near(t, await rate(() => archive.stats().downloaded), LIMIT, `through ${chokes} chokes`)
  assert.ok(chokes >= SECONDS * 1000 / CYCLE, `the peer choked ${chokes} times`)
})
