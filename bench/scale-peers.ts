/**
 * Scale benchmark (issue 25): one seeder and many downloaders of one archive in a single swarm on
 * 127.0.0.1, for each swarm size of BENCH_SIZES (8, 50 and 200) in one run, so the sizes share a load.
 * Downloaders keep the data in memory (BENCH_STORAGE=memory, default): 200 × 64 MiB on disk would
 * measure the disk, not the swarm; BENCH_STORAGE=disk writes files. The downloaders run as BENCH_GROUPS processes (4) of many clients each,
 * to fit a 2-core machine; each client is told the seeder and BENCH_TOLD (10) random others and
 * finds the rest by PEX. Measures the time until every downloader has every piece, the seeder's CPU
 * seconds and peak RSS (from /proc), and the groups' RSS per client. A report, not a test.
 *
 * A client not done at BENCH_TIMEOUT_S is reported with the pieces and connections it held.
 *
 *   node dist/bench/scale-peers.js [--json]     BENCH_SIZES=8,50,200 BENCH_MB=64 BENCH_PIECE_KIB=256 BENCH_GROUPS=4 BENCH_TOLD=10 BENCH_TRANSPORT=tcp|utp BENCH_STORAGE=memory|disk
 *
 * Run as `scale-peers.js group <torrent> <dir> <clients>` it is one process of downloaders.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent, directoryStorage } from '../index.js'
import { memoryStorage } from '../lib/storage/factories.js'
import { KILL_GRACE_MS, killChildren, startChild, type Child } from './child.js'
import { prepareBench } from './data.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'
import { nextStdinLine, onStdinClosed } from './stdin.js'

const SIZES = (process.env.BENCH_SIZES ?? process.env.BENCH_PEERS ?? '8,50,200').split(',').map(Number)
const MB = Number(process.env.BENCH_MB ?? 64)
const PIECE_KIB = Number(process.env.BENCH_PIECE_KIB ?? 256)
const MEMORY = process.env.BENCH_STORAGE !== 'disk'
const GROUPS = Number(process.env.BENCH_GROUPS ?? 4)
const TOLD = Number(process.env.BENCH_TOLD ?? 10)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const here = dirname(fileURLToPath(import.meta.url))
const tlPeer = join(here, 'tl-peer.js')

interface GroupReport {
  /** Seconds from the peers line to each client's last piece; null: not done at the timeout. */
  readonly doneSeconds: Array<number | null>
  /** Per client at its end (or the timeout): fraction held and connections open. */
  readonly progress: number[]
  readonly connections: number[]
  readonly cpuSeconds: number
  readonly peakRssBytes: number
  /** RSS after start() of every client, before any download. */
  readonly idleRssBytes: number
}

function emit (record: object): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

/** `count` clients in this process: ports out, one line of peers per client in, a report once all are done. */
async function group (torrentPath: string, dir: string, count: number): Promise<void> {
  const torrent = await readFile(torrentPath)
  const clients = Array.from({ length: count }, (_, i) => new Torrent({
    dht: false, lsd: false, pex: true, storage: MEMORY ? memoryStorage() : directoryStorage(join(dir, String(i))), torrentPort: 0, host: '127.0.0.1', natTraversal: false,
    tcp: process.env.BENCH_TRANSPORT !== 'utp', utp: process.env.BENCH_TRANSPORT !== 'tcp'
  }))
  await Promise.all(clients.map(async (c) => await c.start()))
  emit({ ports: clients.map((c) => c.port), idleRssBytes: process.memoryUsage().rss })
  const { peers } = JSON.parse(await nextStdinLine(TIMEOUT_MS, 'waiting for the peers')) as { peers: string[][] }
  const started = performance.now()
  const ends = await Promise.all(clients.map(async (client, i) => {
    const archive = await client.lookup(torrent, { download: 'all', peers: peers[i] ?? [] })
    const done = await new Promise<boolean>((resolve) => {
      const limit = setTimeout(() => { clearInterval(poll); resolve(false) }, TIMEOUT_MS)
      const poll = setInterval(() => { if (archive.progress === 1) { clearInterval(poll); clearTimeout(limit); resolve(true) } }, 100)
    })
    return { seconds: done ? (performance.now() - started) / 1000 : null, progress: archive.progress, connections: archive.peers.length }
  }))
  emit({
    doneSeconds: ends.map((e) => e.seconds), progress: ends.map((e) => e.progress), connections: ends.map((e) => e.connections),
    cpuSeconds: ownCpuSeconds(), peakRssBytes: ownPeakRssBytes(), idleRssBytes: 0
  })
  onStdinClosed(() => { Promise.all(clients.map(async (c) => await c.stop())).finally(() => process.exit(0)) })
}

/** utime + stime of a process, and its peak RSS, from /proc. */
function procFigures (pid: number): { cpuSeconds: number, peakRssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
  return { cpuSeconds: ticks / 100, peakRssBytes: Number(hwm?.[1] ?? 0) * 1024 }
}

function pick<T> (from: readonly T[], n: number): T[] {
  const copy = [...from]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!]
  }
  return copy.slice(0, n)
}

async function orchestrate (json: boolean): Promise<void> {
  const log = (line: string): void => { if (!json) console.log(line) }
  const setup = await prepareBench('tl-scale-peers-', MB, PYTHON, TIMEOUT_MS, PIECE_KIB * 1024)
  const pieces = Math.ceil(MB * 1024 / PIECE_KIB)
  const results: object[] = []
  for (const peers of SIZES) results.push(await runSize(setup.torrent, setup.seedDir, setup.workDir, peers, pieces, log))
  if (json) console.log(JSON.stringify({ megabytes: MB, pieceKib: PIECE_KIB, groups: GROUPS, told: TOLD, memory: MEMORY, results }, null, 2))
}

/** One swarm of `peers` downloaders and a fresh seeder; the figures of that swarm. */
async function runSize (torrentPath: string, seedDir: string, workDir: string, peers: number, pieces: number, log: (line: string) => void): Promise<object> {
  const loadBefore = loadavg()
  const groupCount = Math.min(GROUPS, peers)
  log(`${peers} downloaders in ${groupCount} processes, one seeder, ${MB} MiB in ${pieces} pieces of ${PIECE_KIB} KiB, ${MEMORY ? 'memory' : 'disk'} storage, each told the seeder and ${TOLD} others, PEX on; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  const options = { timeoutMs: TIMEOUT_MS + 60_000, stdin: true }
  const seeder = startChild(process.execPath, [tlPeer, 'seed', torrentPath, seedDir], options)
  const groups: Child[] = []
  try {
    const { port: seedPort } = await seeder.nextLine<{ port: number }>(Date.now() + TIMEOUT_MS, 'seeder checking its data')
    const seederBefore = procFigures(seeder.process.pid!)
    const sizes = Array.from({ length: groupCount }, (_, g) => Math.floor(peers / groupCount) + (g < peers % groupCount ? 1 : 0))
    for (const [g, size] of sizes.entries()) {
      const dir = join(workDir, `size-${peers}-group-${g}`)
      mkdirSync(dir)
      groups.push(startChild(process.execPath, [fileURLToPath(import.meta.url), 'group', torrentPath, dir, String(size)], options))
    }
    const listening = await Promise.all(groups.map(async (g, i) => await g.nextLine<{ ports: number[], idleRssBytes: number }>(Date.now() + TIMEOUT_MS, `group ${i} starting`)))
    const all = listening.flatMap((l) => l.ports)
    const address = (port: number): string => `127.0.0.1:${port}`
    const started = performance.now()
    for (const [g, l] of listening.entries()) {
      groups[g]!.send(JSON.stringify({ peers: l.ports.map((own) => [address(seedPort), ...pick(all.filter((p) => p !== own), TOLD).map(address)]) }))
    }
    const reports = await Promise.all(groups.map(async (g, i) => await g.nextLine<GroupReport>(Date.now() + TIMEOUT_MS + 30_000, `group ${i} downloading`)))
    const lastSeconds = (performance.now() - started) / 1000
    const seederAfter = procFigures(seeder.process.pid!)
    const ends = reports.flatMap((r) => r.doneSeconds)
    const done = ends.filter((s): s is number => s !== null).sort((a, b) => a - b)
    const held = reports.flatMap((r) => r.progress.map((p) => Math.round(p * pieces)))
    const connections = reports.flatMap((r) => r.connections)
    const delivered = held.reduce((a, b) => a + b, 0) * PIECE_KIB / 1024
    const seederCpu = seederAfter.cpuSeconds - seederBefore.cpuSeconds
    const perClientPeak = reports.map((r, g) => r.peakRssBytes / sizes[g]!)
    const perClientIdle = listening.map((l, g) => l.idleRssBytes / sizes[g]!)
    const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
    if (done.length === peers) {
      log(`  all ${peers} done after ${lastSeconds.toFixed(1)} s (median ${done[Math.floor(done.length / 2)]!.toFixed(1)} s, first ${done[0]!.toFixed(1)} s): ${(delivered / lastSeconds).toFixed(1)} MiB/s delivered`)
    } else {
      log(`  ${done.length} of ${peers} done within ${TIMEOUT_MS / 1000} s; ${(delivered / lastSeconds).toFixed(1)} MiB/s delivered`)
      log(`  pieces held per client (of ${pieces}): ${held.join(' ')}`)
    }
    log(`  connections per client at the end: ${connections.join(' ')}`)
    log(`  seeder: ${seederCpu.toFixed(1)} CPU s during the run, peak RSS ${mib(seederAfter.peakRssBytes)} MiB`)
    log(`  downloaders: ${reports.map((r) => r.cpuSeconds.toFixed(0)).join(' + ')} CPU s per group; peak RSS per client ${perClientPeak.map((b) => mib(b)).join(', ')} MiB (idle after start(): ${perClientIdle.map((b) => mib(b)).join(', ')} MiB)`)
    log(`  load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    return {
      peers, lastSeconds, doneSeconds: ends, piecesHeld: held, connections, deliveredMib: delivered, seederCpuSeconds: seederCpu,
      seederPeakRssBytes: seederAfter.peakRssBytes, groupReports: reports, idleRssBytes: listening.map((l) => l.idleRssBytes), loadBefore, loadAfter: loadavg()
    }
  } finally {
    for (const child of [seeder, ...groups]) child.closeStdin()
    await Promise.all([seeder, ...groups].map(async (c) => await c.stop(KILL_GRACE_MS)))
  }
}

const [mode, torrent, dir, count] = process.argv.slice(2)
const run = mode === 'group' && torrent !== undefined && dir !== undefined && count !== undefined
  ? group(torrent, dir, Number(count))
  : orchestrate(process.argv.includes('--json'))
run.catch((err: unknown) => {
  process.stderr.write(`scale-peers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  killChildren()
  process.exit(1)
})
