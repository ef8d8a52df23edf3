import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import fs from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import { PiecePicker } from '../../lib/swarm/picker.js'
import { WebSeeds, type WebSeedTuning } from '../../lib/webseed/web-seeds.js'
import { DEFAULT_RANGE_LIMITS, fetchRange, rangeAgents } from '../../lib/webseed/http-range.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { tmpDir, until } from '../helpers/fixtures.js'
import { served, startMirror, torrentOf, type Mirror } from './mirror.js'

const PIECE = 16 * 1024
const FILES = new Map([['one.bin', randomBytes(3 * PIECE + 100)], ['two words.bin', randomBytes(PIECE - 7)]])
const NAME = 'web seed'

interface Run {
  seeds: WebSeeds
  stored: Set<number>
  received: () => number
}

/** WebSeeds over a real picker, with a host that verifies by SHA-1 and records stored pieces. */
function run (t: TestContext, meta: Metainfo, tuning: Partial<WebSeedTuning> = {}): Run {
  const picker = new PiecePicker(meta.pieceCount)
  const stored = new Set<number>()
  let received = 0
  const seeds = new WebSeeds(meta.webSeeds!, {
    meta,
    picker,
    maxPieces: 4,
    verify: async (index, data) => createHash('sha1').update(data).digest().equals(meta.pieceHashes.subarray(index * 20, index * 20 + 20)),
    store: async (index) => {
      stored.add(index)
      picker.markHave(index)
    },
    received: (bytes) => { received += bytes },
    abandoned: () => {},
    stopped: () => false
  }, { backoff: 20, maxFailures: 3, piecesPerSeed: 1, ...tuning })
  t.after(() => seeds.close())
  seeds.wake()
  return { seeds, stored, received: () => received }
}

async function mirrored (t: TestContext, mode: Mirror['mode'] = { kind: 'good' }): Promise<Mirror> {
  return await startMirror(t, served(NAME, FILES), mode)
}

test('every piece comes from a mirror, over file boundaries and names that need encoding', async (t) => {
  const mirror = await mirrored(t)
  const { meta } = torrentOf(NAME, FILES, PIECE, [mirror.url])
  const r = run(t, meta, { piecesPerSeed: 2 })
  await until(() => r.stored.size === meta.pieceCount, 10_000, 'all pieces stored')
  assert.equal(r.received(), meta.length)
  assert.ok(mirror.requests.includes('/web%20seed/two%20words.bin'), mirror.requests.join(' '))
  assert.deepEqual(r.seeds.states, [{ url: mirror.url, state: 'active', downloaded: meta.length, failures: 0, reason: null }])
})

test('a mirror answering 500 is backed off, longer each time, then dropped with the reason', async (t) => {
  const mirror = await mirrored(t, { kind: 'status', status: 500 })
  const { meta } = torrentOf(NAME, FILES, PIECE, [mirror.url])
  const times: number[] = []
  const counted = mirror.requests.push.bind(mirror.requests)
  mirror.requests.push = (...items) => { times.push(Date.now()); return counted(...items) }
  const r = run(t, meta)
  await until(() => r.seeds.states[0]!.state === 'backoff', 5_000, 'backoff after the first failure')
  await until(() => r.seeds.states[0]!.state === 'dropped', 5_000, 'dropped')
  const state = r.seeds.states[0]!
  assert.equal(state.failures, 3)
  assert.match(state.reason!, /failed 3 times in a row, last: .*HTTP 500/)
  assert.equal(mirror.requests.length, 3, 'no request after it was dropped')
  // Backoff 20 ms, then 40 ms: the waits of the test's own tuning are lower bounds.
  assert.ok(times[1]! - times[0]! >= 20 && times[2]! - times[1]! >= 40, `request times ${times.map((x) => x - times[0]!).join(', ')}`)
  assert.equal(r.stored.size, 0)
})

test('a silent mirror times out, is backed off and dropped', async (t) => {
  const mirror = await mirrored(t, { kind: 'silent' })
  const { meta } = torrentOf(NAME, FILES, PIECE, [mirror.url])
  const r = run(t, meta, { range: { ...DEFAULT_RANGE_LIMITS, headersTimeout: 50 } })
  await until(() => r.seeds.states[0]!.state === 'dropped', 5_000, 'dropped')
  assert.match(r.seeds.states[0]!.reason!, /did not answer within 50 ms/)
})

test('a mirror that trickles a byte now and then, never pausing long enough to idle out, is given up at the minimum rate', async (t) => {
  const mirror = await mirrored(t, { kind: 'trickle', everyMs: 20 })
  const { meta } = torrentOf(NAME, FILES, PIECE, [mirror.url])
  const r = run(t, meta, { range: { ...DEFAULT_RANGE_LIMITS, idleTimeout: 1_000, minRate: 1024 * 1024 * 1024 } })
  await until(() => r.seeds.states[0]!.state === 'dropped', 15_000, 'dropped')
  assert.match(r.seeds.states[0]!.reason!, /slower than 1073741824 bytes\/s/)
  assert.ok(mirror.hungUp >= 1, 'we hung up on it')
})

test('a mirror serving bad data is dropped at once, and a good one completes the download', async (t) => {
  const bad = await mirrored(t, { kind: 'corrupt' })
  const good = await mirrored(t)
  const { meta } = torrentOf(NAME, FILES, PIECE, [bad.url, good.url])
  const r = run(t, meta)
  await until(() => r.stored.size === meta.pieceCount, 10_000, 'all pieces stored')
  const [badState, goodState] = r.seeds.states
  assert.equal(badState!.state, 'dropped')
  assert.match(badState!.reason!, /served data for piece \d+ that failed its SHA-1 check/)
  // One piece is one request per file it covers: at most two here.
  assert.ok(bad.requests.length <= 2, `dropped after its first piece, not after several failures: ${bad.requests.join(' ')}`)
  assert.equal(goodState!.state, 'active')
})

test('a mirror sending more than asked is cut off at the length asked for', async (t) => {
  const extra = 512 * 1024 * 1024
  const mirror = await mirrored(t, { kind: 'oversend', extra })
  const { meta } = torrentOf(NAME, new Map([['one.bin', FILES.get('one.bin')!]]), PIECE, [mirror.url])
  const into = Buffer.alloc(PIECE)
  await fetchRange(`${mirror.url}web%20seed/one.bin`, 0, PIECE, into, 0, DEFAULT_RANGE_LIMITS)
  assert.ok(into.equals(FILES.get('one.bin')!.subarray(0, PIECE)))
  // We hung up after PIECE bytes: the server saw it before it had sent `extra`, and got out only
  // what socket buffers took.
  await until(() => mirror.hungUp === 1, 5_000, 'the client hanging up')
  assert.ok(mirror.written < extra, `server wrote ${mirror.written} bytes`)
  assert.equal(meta.pieceCount, 4)
  // Through keep-alive agents too: a body longer than the range never goes back to the pool.
  const agents = rangeAgents(2, 1_000)
  t.after(() => { agents.http.destroy(); agents.https.destroy() })
  await fetchRange(`${mirror.url}web%20seed/one.bin`, 0, PIECE, into, 0, DEFAULT_RANGE_LIMITS, undefined, agents)
  await until(() => mirror.hungUp === 2, 5_000, 'the client hanging up on the second response')
  assert.ok(mirror.written < 2 * extra, `server wrote ${mirror.written} bytes`)
})

test('a redirect to another local server is followed; a loop ends; a redirect to another scheme fails', async (t) => {
  const target = await mirrored(t)
  const hop = await mirrored(t, { kind: 'redirect', to: (p) => `${target.url.slice(0, -1)}${p}` })
  const into = Buffer.alloc(100)
  await fetchRange(`${hop.url}web%20seed/one.bin`, 10, 100, into, 0, DEFAULT_RANGE_LIMITS)
  assert.ok(into.equals(FILES.get('one.bin')!.subarray(10, 110)))
  assert.deepEqual(target.requests, ['/web%20seed/one.bin'])

  const loop = await mirrored(t, { kind: 'redirect', to: (p) => p })
  await assert.rejects(fetchRange(`${loop.url}x`, 0, 10, into, 0, DEFAULT_RANGE_LIMITS), /redirects in a loop/)
  let n = 0
  const chain = await mirrored(t, { kind: 'redirect', to: () => `/r${n++}` })
  await assert.rejects(fetchRange(`${chain.url}x`, 0, 10, into, 0, DEFAULT_RANGE_LIMITS), /redirected more than 5 times/)
  assert.equal(chain.requests.length, 6)
  const ftp = await mirrored(t, { kind: 'redirect', to: () => 'ftp://127.0.0.1/x' })
  await assert.rejects(fetchRange(`${ftp.url}x`, 0, 10, into, 0, DEFAULT_RANGE_LIMITS), /not an http: or https: URL/)
})

test('a server that ignores Range is used only from offset 0; a short body fails', async (t) => {
  const files = new Map([['/f', FILES.get('one.bin')!]])
  const plain = await startMirror(t, files, { kind: 'norange' })
  const into = Buffer.alloc(100)
  await fetchRange(`${plain.url}f`, 0, 100, into, 0, DEFAULT_RANGE_LIMITS)
  assert.ok(into.equals(FILES.get('one.bin')!.subarray(0, 100)))
  await assert.rejects(fetchRange(`${plain.url}f`, 100, 100, into, 0, DEFAULT_RANGE_LIMITS), /ignores Range requests \(HTTP 200 for bytes from 100\)/)
  const short = await startMirror(t, files, { kind: 'short' })
  await assert.rejects(fetchRange(`${short.url}f`, 0, 100, into, 0, DEFAULT_RANGE_LIMITS), /sent 50 bytes of the 100 asked for|socket hang up|aborted/)
})

test('https with a certificate the caller trusts', async (t) => {
  const dir = await tmpDir(t, 'tl-webseed-tls-')
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 10_000 })
  const tls = { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') }
  const mirror = await startMirror(t, new Map([['/f', FILES.get('one.bin')!]]), { kind: 'good' }, tls)
  const into = Buffer.alloc(100)
  await assert.rejects(fetchRange(`${mirror.url}f`, 5, 100, into, 0, DEFAULT_RANGE_LIMITS), /self-signed|certificate/)
  await fetchRange(`${mirror.url}f`, 5, 100, into, 0, { ...DEFAULT_RANGE_LIMITS, ca: tls.cert })
  assert.ok(into.equals(FILES.get('one.bin')!.subarray(5, 105)))
})
