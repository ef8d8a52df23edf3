/**
 * Discovery benchmark: magnet (a bare infohash) -> first byte of a 1 KiB file inside a 1 GiB
 * torrent, over a 20-node DHT on 127.0.0.1, median of 5 runs; beside it libtorrent's magnet ->
 * metadata time in the same DHT. Storage is memory: this measures lookup latency, not disk.
 *
 *   node dist/bench/discovery.js [--json]     BENCH_RUNS=5 BENCH_MB=1024 BENCH_PYTHON=/usr/bin/python3
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { loopbackDht } from './loopback-dht.js'
import { Torrent, Archive } from '../index.js'

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const MB = Number(process.env.BENCH_MB ?? 1024)
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const NODES = 20
const LT_SCRIPT = fileURLToPath(new URL('../../bench/lt-magnet.py', import.meta.url))

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!
}

async function tlRun (bootstrap: string, infoHash: string): Promise<{ seconds: number, withStart: number }> {
  const client = new Torrent({ dht: [bootstrap], lsd: false, pex: false, host: '127.0.0.1' })
  const t0 = performance.now()
  await client.start()
  const t1 = performance.now()
  try {
    const archive = await client.lookup(infoHash, { timeout: 30_000 })
    const first = await archive.readFile('/small.txt') as Buffer
    const t2 = performance.now()
    if (first.length !== 1024) throw new Error(`read ${first.length} bytes of the 1 KiB file`)
    return { seconds: (t2 - t1) / 1000, withStart: (t2 - t0) / 1000 }
  } finally {
    await client.stop()
  }
}

async function ltRun (port: number, infoHash: string): Promise<{ seconds: number, withSession: number } | { error: string }> {
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [LT_SCRIPT, String(port), infoHash], { timeout: 60_000 })
    return JSON.parse(stdout) as { seconds: number, withSession: number }
  } catch (err) {
    return { error: (err as Error).message.split('\n').slice(0, 2).join(' ') }
  }
}

const json = process.argv.includes('--json')
const log = (line: string): void => { if (!json) console.log(line) }

const dht = await loopbackDht(NODES)
const seeder = new Torrent({ dht: [dht.bootstrap], lsd: false, pex: false, host: '127.0.0.1' })
await seeder.start()
try {
  log(`${NODES}-node DHT on 127.0.0.1 (bootstrap ${dht.bootstrap}); hashing a ${MB} MiB torrent...`)
  const draft = new Archive()
  await draft.writeFile('/small.txt', Buffer.alloc(1024, 'x'))
  await draft.writeFile('/big.bin', Buffer.alloc(MB * 1024 * 1024 - 1024))
  const magnet = await seeder.seed(draft)
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  // The seeder's first announce must have reached the DHT before the clock starts.
  for (let i = 0; i < 100; i++) {
    let found = false
    const onPeer = (_p: unknown, h: Buffer): void => { if (h.toString('hex') === infoHash) found = true }
    dht.nodes[NODES - 1]!.on('peer', onPeer)
    await new Promise<void>((resolve) => dht.nodes[NODES - 1]!.lookup(infoHash, () => resolve()))
    dht.nodes[NODES - 1]!.off('peer', onPeer)
    if (found) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }

  // Runs alternate, so that both clients meet a DHT holding as many departed nodes as the other.
  const tl: Array<{ seconds: number, withStart: number }> = []
  const lt: Array<{ seconds: number, withSession: number }> = []
  const ltErrors: string[] = []
  for (let i = 0; i < RUNS; i++) {
    const r = await tlRun(dht.bootstrap, infoHash)
    tl.push(r)
    log(`  trackerless run ${i + 1}: ${(r.seconds * 1000).toFixed(0)} ms lookup -> first byte (${(r.withStart * 1000).toFixed(0)} ms with start())`)
    const l = await ltRun(dht.port, infoHash)
    if ('error' in l) {
      ltErrors.push(l.error)
      log(`  libtorrent run ${i + 1}: failed: ${l.error}`)
    } else {
      lt.push(l)
      log(`  libtorrent run ${i + 1}: ${(l.seconds * 1000).toFixed(0)} ms magnet -> metadata (${(l.withSession * 1000).toFixed(0)} ms counting the session's creation)`)
    }
  }
  const result = {
    nodes: NODES,
    torrentMiB: MB,
    runs: RUNS,
    trackerless: { medianSeconds: median(tl.map((r) => r.seconds)), medianWithStartSeconds: median(tl.map((r) => r.withStart)), runs: tl },
    libtorrent: { medianSeconds: median(lt.map((r) => r.seconds)), runs: lt, errors: ltErrors }
  }
  if (json) {
    console.log(JSON.stringify(result, null, 2))
  } else {
    console.log(`median trackerless magnet -> first byte: ${(result.trackerless.medianSeconds * 1000).toFixed(0)} ms` +
      ` (${(result.trackerless.medianWithStartSeconds * 1000).toFixed(0)} ms counting start())`)
    console.log(`median libtorrent  magnet -> metadata:   ${lt.length > 0 ? (result.libtorrent.medianSeconds * 1000).toFixed(0) + ' ms' : 'n/a'}`)
  }
} finally {
  await seeder.stop()
  await Promise.all(dht.nodes.map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))))
}
