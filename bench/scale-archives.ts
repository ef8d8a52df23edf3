/**
 * Scale benchmark (issue 25): one client seeding many small archives (1,000 by default) with the DHT
 * on, over a local DHT of 20 bittorrent-dht nodes on 127.0.0.1 in this process (never the public
 * DHT). Measures the seeder's RSS per archive (a child process, RSS after start() and after every
 * seed() resolved, both after a GC), the time until the DHT holds an announce of every archive, the
 * DHT packets per second the seeder sends in steady state (counted on the local nodes, per second,
 * over BENCH_WINDOW_S), and lookup -> first byte of random archives from a second client. A report,
 * not a test.
 *
 *   node dist/bench/scale-archives.js [--json]     BENCH_ARCHIVES=1000 BENCH_WINDOW_S=60 BENCH_LOOKUPS=5
 *
 * Run as `scale-archives.js seed <bootstrap host:port> <count> <dir>` it is the seeder.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type DHT from 'bittorrent-dht'
import { loopbackDht } from './loopback-dht.js'
import { Archive, Torrent, directoryStorage } from '../index.js'
import { KILL_GRACE_MS, killChildren, startChild } from './child.js'
import { nextStdinLine } from './stdin.js'

const ARCHIVES = Number(process.env.BENCH_ARCHIVES ?? 1000)
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60)
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 5)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000
const NODES = 20
const FILE = '/index.txt'
const KIB = 1024

function emit (record: object): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

function rssBytes (): number {
  (globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

/** The seeder: start(), then every archive seeded at once; the RSS before and after. */
async function seeder (bootstrap: string, count: number, dir: string): Promise<void> {
  const client = new Torrent({
    dht: [bootstrap], dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false, storage: directoryStorage(dir)
  })
  await client.start()
  const baseline = rssBytes()
  const started = performance.now()
  const magnets = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const draft = new Archive()
    await draft.writeFile(FILE, Buffer.from(`archive ${i} `.padEnd(KIB, '.')))
    return await client.seed(draft)
  }))
  const seedSeconds = (performance.now() - started) / 1000
  emit({ baselineRssBytes: baseline, rssBytes: rssBytes(), seedSeconds, infoHashes: magnets.map((m) => /btih:([0-9a-f]{40})/.exec(m)![1]) })
  // The orchestrator asks for the RSS again at the end of the window.
  for (;;) {
    const line = await nextStdinLine(TIMEOUT_MS * 4, 'waiting for the orchestrator').catch(() => null)
    if (line === null) break
    emit({ rssBytes: rssBytes() })
  }
  await client.stop()
}

interface DhtLab {
  readonly nodes: DHT[]
  readonly bootstrap: string
  /** Packets received by the local nodes from anyone but themselves, per whole second since `since`. */
  readonly perSecond: number[]
  since: number
  /** Infohash (hex) -> ms after `since` of its first announce_peer. */
  readonly announced: Map<string, number>
}

async function loopbackLab (): Promise<DhtLab> {
  const { nodes, bootstrap } = await loopbackDht(NODES)
  const ours = new Set(nodes.map((n) => n.address().port))
  const lab: DhtLab = { nodes, bootstrap, perSecond: [], since: performance.now(), announced: new Map() }
  for (const node of nodes) {
    // k-rpc's socket wraps the dgram socket: every datagram, answered or not, is counted.
    const socket = (node as unknown as { _rpc: { socket: { socket: NodeJS.EventEmitter } } })._rpc.socket.socket
    socket.on('message', (_buf: Buffer, rinfo: { port: number }) => {
      if (ours.has(rinfo.port)) return
      const second = Math.floor((performance.now() - lab.since) / 1000)
      lab.perSecond[second] = (lab.perSecond[second] ?? 0) + 1
    })
    node.on('announce', (_peer: unknown, infoHash: Buffer) => {
      const hex = infoHash.toString('hex')
      if (!lab.announced.has(hex)) lab.announced.set(hex, performance.now() - lab.since)
    })
  }
  return lab
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN
const mib = (b: number): string => (b / 2 ** 20).toFixed(1)

async function lookupRandom (bootstrap: string, infoHashes: readonly string[]): Promise<number[]> {
  const seconds: number[] = []
  for (let i = 0; i < LOOKUPS; i++) {
    const client = new Torrent({ dht: [bootstrap], dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false })
    await client.start()
    try {
      const infoHash = infoHashes[Math.floor(Math.random() * infoHashes.length)]!
      const started = performance.now()
      const archive = await client.lookup(infoHash, { timeout: 30_000 })
      const data = await archive.readFile(FILE) as Buffer
      if (data.length !== KIB) throw new Error(`read ${data.length} bytes of a 1 KiB file`)
      seconds.push((performance.now() - started) / 1000)
    } finally {
      await client.stop()
    }
  }
  return seconds
}

async function orchestrate (json: boolean): Promise<void> {
  const log = (line: string): void => { if (!json) console.log(line) }
  const workDir = mkdtempSync(join(tmpdir(), 'tl-scale-archives-'))
  process.once('exit', () => { killChildren(); rmSync(workDir, { recursive: true, force: true }) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const loadBefore = loadavg()
  const lab = await loopbackLab()
  log(`${NODES}-node DHT on ${lab.bootstrap}; seeding ${ARCHIVES} archives of 1 KiB, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  lab.since = performance.now()
  const child = startChild(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'seed', lab.bootstrap, String(ARCHIVES), workDir],
    { timeoutMs: TIMEOUT_MS, stdin: true })
  try {
    const seeded = await child.nextLine<{ baselineRssBytes: number, rssBytes: number, seedSeconds: number, infoHashes: string[] }>(
      Date.now() + TIMEOUT_MS, `seeding ${ARCHIVES} archives`)
    const deadline = performance.now() + TIMEOUT_MS
    while (seeded.infoHashes.some((h) => !lab.announced.has(h)) && performance.now() < deadline) await sleep(200)
    const missing = seeded.infoHashes.filter((h) => !lab.announced.has(h)).length
    const allAnnouncedS = Math.max(...lab.announced.values()) / 1000
    const perArchive = (seeded.rssBytes - seeded.baselineRssBytes) / ARCHIVES
    log(`  seed() of all resolved after ${seeded.seedSeconds.toFixed(1)} s; the DHT held an announce of ${ARCHIVES - missing}/${ARCHIVES} after ${allAnnouncedS.toFixed(1)} s (from the child's start)`)
    log(`  seeder RSS ${mib(seeded.baselineRssBytes)} MiB after start(), ${mib(seeded.rssBytes)} MiB with ${ARCHIVES} archives: ${(perArchive / KIB).toFixed(1)} KiB per archive`)
    const startupPackets = lab.perSecond.reduce((a, b) => a + (b ?? 0), 0)
    const windowStart = Math.ceil((performance.now() - lab.since) / 1000)
    const startup = Array.from({ length: windowStart }, (_, i) => lab.perSecond[i] ?? 0)
    log(`  ${startupPackets} packets to the DHT so far (max ${Math.max(...startup)} in one second); counting ${WINDOW_S} s of steady state...`)
    await sleep(WINDOW_S * 1000)
    const window = Array.from({ length: WINDOW_S }, (_, i) => lab.perSecond[windowStart + i] ?? 0)
    const steadyRate = window.reduce((a, b) => a + b, 0) / WINDOW_S
    child.send('rss')
    const { rssBytes: rssAfter } = await child.nextLine<{ rssBytes: number }>(Date.now() + 10_000, 'RSS after the window')
    const perArchiveAfter = (rssAfter - seeded.baselineRssBytes) / ARCHIVES
    log(`  steady state: ${steadyRate.toFixed(1)} packets/s to the DHT (max ${Math.max(...window)} in one second); seeder RSS ${mib(rssAfter)} MiB, ${(perArchiveAfter / KIB).toFixed(1)} KiB per archive`)
    const lookups = await lookupRandom(lab.bootstrap, seeded.infoHashes)
    log(`  lookup -> 1 KiB file of a random archive: median ${(median(lookups) * 1000).toFixed(0)} ms (${lookups.map((s) => (s * 1000).toFixed(0)).join(', ')})`)
    log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    if (json) {
      console.log(JSON.stringify({
        archives: ARCHIVES, nodes: NODES, seedSeconds: seeded.seedSeconds, allAnnouncedSeconds: allAnnouncedS, missing,
        baselineRssBytes: seeded.baselineRssBytes, rssBytes: seeded.rssBytes, rssAfterWindowBytes: rssAfter, rssPerArchiveBytes: perArchive,
        rssPerArchiveAfterWindowBytes: perArchiveAfter, startupPackets, startup, steadyPacketsPerSecond: steadyRate, window, lookupSeconds: lookups, loadBefore, loadAfter: loadavg()
      }, null, 2))
    }
    process.exitCode = missing === 0 ? 0 : 1
  } finally {
    child.closeStdin()
    await child.stop(KILL_GRACE_MS)
    await Promise.all(lab.nodes.map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))))
  }
}

const [mode, bootstrap, count, dir] = process.argv.slice(2)
const run = mode === 'seed' && bootstrap !== undefined && count !== undefined && dir !== undefined
  ? seeder(bootstrap, Number(count), dir)
  : orchestrate(process.argv.includes('--json'))
run.catch((err: unknown) => {
  process.stderr.write(`scale-archives: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  killChildren()
  process.exit(1)
})
