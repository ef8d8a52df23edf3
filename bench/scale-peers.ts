/**
 * Scale benchmark (issue 25): one seeder and many downloaders (200 by default) of one archive in a
 * single swarm on 127.0.0.1. The downloaders run as BENCH_GROUPS processes (4) of many clients each,
 * to fit a 2-core machine; each client is told the seeder and BENCH_TOLD (10) random others and
 * finds the rest by PEX. Measures the time until every downloader has every piece, the seeder's CPU
 * seconds and peak RSS (from /proc), and the groups' RSS per client. A report, not a test.
 *
 *   node dist/bench/scale-peers.js [--json]     BENCH_PEERS=200 BENCH_MB=16 BENCH_GROUPS=4 BENCH_TOLD=10 BENCH_TRANSPORT=tcp|utp
 *
 * Run as `scale-peers.js group <torrent> <dir> <clients>` it is one process of downloaders.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent, directoryStorage } from '../index.js'
import { KILL_GRACE_MS, killChildren, startChild, type Child } from './child.js'
import { prepareBench } from './data.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'
import { nextStdinLine, onStdinClosed } from './stdin.js'

const PEERS = Number(process.env.BENCH_PEERS ?? 200)
const MB = Number(process.env.BENCH_MB ?? 16)
const GROUPS = Number(process.env.BENCH_GROUPS ?? 4)
const TOLD = Number(process.env.BENCH_TOLD ?? 10)
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 300) * 1000
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const here = dirname(fileURLToPath(import.meta.url))
const tlPeer = join(here, 'tl-peer.js')

interface GroupReport {
  /** Seconds from the peers line to each client's last piece. */
  readonly doneSeconds: number[]
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
    dht: false, lsd: false, pex: true, storage: directoryStorage(join(dir, String(i))), torrentPort: 0, host: '127.0.0.1', natTraversal: false,
    tcp: process.env.BENCH_TRANSPORT !== 'utp', utp: process.env.BENCH_TRANSPORT !== 'tcp'
  }))
  await Promise.all(clients.map(async (c) => await c.start()))
  emit({ ports: clients.map((c) => c.port), idleRssBytes: process.memoryUsage().rss })
  const { peers } = JSON.parse(await nextStdinLine(TIMEOUT_MS, 'waiting for the peers')) as { peers: string[][] }
  const started = performance.now()
  const doneSeconds = await Promise.all(clients.map(async (client, i) => {
    const archive = await client.lookup(torrent, { download: 'all', peers: peers[i] ?? [] })
    await new Promise<void>((resolve, reject) => {
      const limit = setTimeout(() => { clearInterval(poll); reject(new Error(`client ${i}: not done within ${TIMEOUT_MS / 1000} s (progress ${archive.progress})`)) }, TIMEOUT_MS)
      const poll = setInterval(() => { if (archive.progress === 1) { clearInterval(poll); clearTimeout(limit); resolve() } }, 100)
    })
    return (performance.now() - started) / 1000
  }))
  emit({ doneSeconds, cpuSeconds: ownCpuSeconds(), peakRssBytes: ownPeakRssBytes(), idleRssBytes: 0 })
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
  const setup = await prepareBench('tl-scale-peers-', MB, PYTHON, TIMEOUT_MS)
  const loadBefore = loadavg()
  log(`${PEERS} downloaders in ${GROUPS} processes, one seeder, ${MB} MiB, each told the seeder and ${TOLD} others, PEX on; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`)
  const options = { timeoutMs: TIMEOUT_MS, stdin: true }
  const seeder = startChild(process.execPath, [tlPeer, 'seed', setup.torrent, setup.seedDir], options)
  const groups: Child[] = []
  try {
    const { port: seedPort } = await seeder.nextLine<{ port: number }>(Date.now() + TIMEOUT_MS, 'seeder checking its data')
    const seederBefore = procFigures(seeder.process.pid!)
    const sizes = Array.from({ length: GROUPS }, (_, g) => Math.floor(PEERS / GROUPS) + (g < PEERS % GROUPS ? 1 : 0))
    for (const [g, size] of sizes.entries()) {
      const dir = join(setup.workDir, `group-${g}`)
      mkdirSync(dir)
      groups.push(startChild(process.execPath, [fileURLToPath(import.meta.url), 'group', setup.torrent, dir, String(size)], options))
    }
    const listening = await Promise.all(groups.map(async (g, i) => await g.nextLine<{ ports: number[], idleRssBytes: number }>(Date.now() + TIMEOUT_MS, `group ${i} starting`)))
    const all = listening.flatMap((l) => l.ports)
    const address = (port: number): string => `127.0.0.1:${port}`
    const started = performance.now()
    for (const [g, l] of listening.entries()) {
      groups[g]!.send(JSON.stringify({ peers: l.ports.map((own) => [address(seedPort), ...pick(all.filter((p) => p !== own), TOLD).map(address)]) }))
    }
    const reports = await Promise.all(groups.map(async (g, i) => await g.nextLine<GroupReport>(Date.now() + TIMEOUT_MS, `group ${i} downloading`)))
    const lastSeconds = (performance.now() - started) / 1000
    const seederAfter = procFigures(seeder.process.pid!)
    const done = reports.flatMap((r) => r.doneSeconds).sort((a, b) => a - b)
    const seederCpu = seederAfter.cpuSeconds - seederBefore.cpuSeconds
    const perClientPeak = reports.map((r, g) => r.peakRssBytes / sizes[g]!)
    const perClientIdle = listening.map((l, g) => l.idleRssBytes / sizes[g]!)
    const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
    log(`  all ${PEERS} done after ${lastSeconds.toFixed(1)} s (median ${done[Math.floor(done.length / 2)]!.toFixed(1)} s, first ${done[0]!.toFixed(1)} s): ${(PEERS * MB / lastSeconds).toFixed(0)} MiB/s delivered`)
    log(`  seeder: ${seederCpu.toFixed(1)} CPU s during the run, peak RSS ${mib(seederAfter.peakRssBytes)} MiB`)
    log(`  downloaders: ${reports.map((r) => r.cpuSeconds.toFixed(0)).join(' + ')} CPU s per group; peak RSS per client ${perClientPeak.map((b) => mib(b)).join(', ')} MiB (idle after start(): ${perClientIdle.map((b) => mib(b)).join(', ')} MiB)`)
    log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    if (json) {
      console.log(JSON.stringify({
        peers: PEERS, groups: GROUPS, megabytes: MB, told: TOLD, lastSeconds, doneSeconds: done, seederCpuSeconds: seederCpu,
        seederPeakRssBytes: seederAfter.peakRssBytes, groupReports: reports, idleRssBytes: listening.map((l) => l.idleRssBytes), loadBefore, loadAfter: loadavg()
      }, null, 2))
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
