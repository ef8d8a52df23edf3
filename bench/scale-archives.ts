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
 *   BENCH_CLIENTS=tl,lt: the same with a libtorrent 2.0.8 session (bench/lt-archives.py), one after the other
 *   BENCH_MALLOC_TRIM=1: then gdb calls malloc_trim(0) in both seeders and the RSS is read again (what glibc kept free)
 *
 * Run as `scale-archives.js seed <bootstrap host:port> <count> <dir>` it is the seeder.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { writeHeapSnapshot } from 'node:v8'
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
const MALLOC_TRIM = process.env.BENCH_MALLOC_TRIM === '1'
type Client = 'tl' | 'lt'
const CLIENTS = (process.env.BENCH_CLIENTS ?? 'tl').split(',').map((c) => {
  if (c !== 'tl' && c !== 'lt') throw new Error(`BENCH_CLIENTS: "${c}" is neither tl nor lt`)
  return c as Client
})
/** libtorrent announces one torrent a second at most: 1,000 of them take about 17 min. */
const LT_TIMEOUT_MS = Number(process.env.BENCH_LT_TIMEOUT_S ?? 1500) * 1000
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const LT_SCRIPT = fileURLToPath(new URL('../../bench/lt-archives.py', import.meta.url))
const FILE = '/index.txt'
const KIB = 1024

function emit (record: object): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

/** Resident bytes by kind, from /proc/self/smaps (Linux; undefined elsewhere): `brk` is glibc's
 *  main heap, `anon` other anonymous maps (V8's heap, the threads' malloc arenas), `file` the
 *  node binary and libraries. */
interface RssByKind { brk: number, anon: number, file: number }

function rssByKind (): RssByKind | undefined {
  let text: string
  try {
    text = readFileSync('/proc/self/smaps', 'utf8')
  } catch {
    return undefined
  }
  const out: RssByKind = { brk: 0, anon: 0, file: 0 }
  let kind: keyof RssByKind = 'anon'
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (head !== null) kind = head[1] === '[heap]' ? 'brk' : head[1] === '' || head[1]!.startsWith('[') ? 'anon' : 'file'
    else if (line.startsWith('Rss:')) out[kind] += Number(line.split(/\s+/)[1]) * KIB
  }
  return out
}

/** RSS after a full GC and a second for V8's threads to finish sweeping and hand pages back
 *  (read at once, it can be tens of MiB above what smaps shows a moment later). */
async function rssBytes (): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.()
  await new Promise((resolve) => setTimeout(resolve, 1000))
  return process.memoryUsage().rss
}

/** The seeder: start(), then every archive seeded at once; the RSS before and after. */
async function seeder (bootstrap: string, count: number, dir: string): Promise<void> {
  const client = new Torrent({
    dht: [bootstrap], dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false, storage: directoryStorage(dir)
  })
  await client.start()
  const baseline = await rssBytes()
  const baselineHeap = process.memoryUsage().heapUsed
  const started = performance.now()
  const magnets = await Promise.all(Array.from({ length: count }, async (_, i) => {
    const draft = new Archive()
    await draft.writeFile(FILE, Buffer.from(`archive ${i} `.padEnd(KIB, '.')))
    return await client.seed(draft)
  }))
  const seedSeconds = (performance.now() - started) / 1000
  emit({ baselineRssBytes: baseline, baselineHeapUsedBytes: baselineHeap, rssBytes: await rssBytes(), seedSeconds, infoHashes: magnets.map((m) => /btih:([0-9a-f]{40})/.exec(m)![1]) })
  // The orchestrator asks for the RSS again at the end of the window.
  for (;;) {
    const line = await nextStdinLine(TIMEOUT_MS * 4 + WINDOW_S * 1000, 'waiting for the orchestrator').catch(() => null)
    if (line === null) break
    const rss = await rssBytes()
    const { heapUsed, heapTotal, external } = process.memoryUsage()
    // BENCH_HEAP_SNAPSHOT=<file>: what holds the memory, for bench/heap-by-type.js.
    if (process.env.BENCH_HEAP_SNAPSHOT !== undefined) writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)
    emit({ rssBytes: rss, heapUsedBytes: heapUsed, heapTotalBytes: heapTotal, externalBytes: external, byKind: rssByKind() })
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

/** Lookups of random archives from fresh clients: each one's seconds, or why it failed (the run goes on). */
async function lookupRandom (bootstrap: string, infoHashes: readonly string[]): Promise<{ seconds: number[], failures: string[] }> {
  const seconds: number[] = []
  const failures: string[] = []
  for (let i = 0; i < LOOKUPS; i++) {
    const client = new Torrent({ dht: [bootstrap], dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false })
    await client.start()
    const index = Math.floor(Math.random() * infoHashes.length)
    try {
      const started = performance.now()
      const archive = await client.lookup(infoHashes[index]!, { timeout: 30_000 })
      const data = await archive.readFile(FILE) as Buffer
      if (data.length !== KIB) throw new Error(`read ${data.length} bytes of a 1 KiB file`)
      seconds.push((performance.now() - started) / 1000)
    } catch (err) {
      failures.push(`archive ${index} (${infoHashes[index]}): ${err instanceof Error ? err.message : String(err)}`)
    } finally {
      await client.stop()
    }
  }
  return { seconds, failures }
}

/** What a seeder child prints once every archive seeds (both bench/lt-archives.py and `seed` mode). */
interface Seeded { baselineRssBytes: number, baselineHeapUsedBytes?: number, rssBytes: number, seedSeconds: number, infoHashes: string[] }
/** What it prints for every line on its stdin; libtorrent adds its session's dht.* counters. */
interface RssReply { rssBytes: number, byKind?: RssByKind, heapUsedBytes?: number, heapTotalBytes?: number, externalBytes?: number, counters?: Record<string, number>, sentTo?: Record<string, number>, self?: string }

/**
 * Writes the .torrent files and data of the archives the seeder makes (the same drafts, so the same
 * infohashes) for libtorrent: <dir>/torrents/<i>.torrent, <dir>/data/<i>/archive/index.txt. A
 * client without DHT or LSD, so nothing is announced.
 */
async function exportArchives (count: number, dir: string): Promise<void> {
  const client = new Torrent({ dht: false, dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false })
  await client.start()
  try {
    mkdirSync(join(dir, 'torrents'), { recursive: true })
    for (let i = 0; i < count; i++) {
      const data = Buffer.from(`archive ${i} `.padEnd(KIB, '.'))
      const draft = new Archive()
      await draft.writeFile(FILE, data)
      const magnet = await client.seed(draft)
      const folder = join(dir, 'data', String(i), 'archive')
      mkdirSync(folder, { recursive: true })
      writeFileSync(join(folder, FILE), data)
      writeFileSync(join(dir, 'torrents', `${i}.torrent`), client.torrentFile(magnet)!)
      await draft.close()
    }
  } finally {
    await client.stop()
  }
}

/** glibc keeps freed memory in its heap; malloc_trim(0), called through gdb, hands it back: the
 *  RSS after it is what the process still uses. */
function mallocTrim (pid: number): void {
  // gdb may exit non-zero after the call returned (it cannot restore some registers): only a gdb
  // that did not run is an error.
  const run = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'call (int)malloc_trim(0)'], { stdio: 'ignore', timeout: 60_000 })
  if (run.error !== undefined) throw new Error(`BENCH_MALLOC_TRIM needs gdb: ${run.error.message}`)
}

const loadText = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ')

/** One client's figures (the --json document); `missing` and `elsewhere` decide the exit code. */
type ClientRun = { missing: number, elsewhere: Record<string, number> | undefined, lookupFailures: string[] } & Record<string, unknown>

/** One client's run on a fresh local DHT: seed every archive, wait for their announces, count the window. */

async function runClient (name: Client, workDir: string, log: (line: string) => void): Promise<ClientRun> {
  const loadBefore = loadavg()
  const lab = await loopbackLab()
  log(`${name}: ${NODES}-node DHT on ${lab.bootstrap}; seeding ${ARCHIVES} archives of 1 KiB, load ${loadText(loadBefore)}`)
  const timeoutMs = name === 'lt' ? LT_TIMEOUT_MS : TIMEOUT_MS
  // An idle seeder (no archive) beside ours, measured at the same moments: its RSS is the baseline
  // that the allocators' own start-up and later decay would otherwise blur. It joins a DHT of its
  // own with as many nodes, so that it is not a node that ours walks through.
  const idleDht = name === 'tl' ? await loopbackDht(NODES) : null
  const idle = idleDht !== null
    ? startChild(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'seed', idleDht.bootstrap, '0', join(workDir, 'idle')], { timeoutMs, stdin: true })
    : null
  const closeIdle = async (): Promise<void> => {
    idle?.closeStdin()
    await idle?.stop(KILL_GRACE_MS)
    await Promise.all((idleDht?.nodes ?? []).map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))))
  }
  await idle?.nextLine<Seeded>(Date.now() + TIMEOUT_MS, `${name}: the idle seeder`).catch(async (err: unknown) => {
    await closeIdle()
    throw err
  })
  lab.since = performance.now()
  const child = name === 'tl'
    ? startChild(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'seed', lab.bootstrap, String(ARCHIVES), join(workDir, 'tl')],
      { timeoutMs, stdin: true })
    : startChild(PYTHON, [LT_SCRIPT, lab.bootstrap, workDir, String(ARCHIVES)], { timeoutMs, stdin: true })
  try {
    const seeded = await child.nextLine<Seeded>(Date.now() + TIMEOUT_MS, `${name}: seeding ${ARCHIVES} archives`)
    const deadline = performance.now() + timeoutMs
    while (seeded.infoHashes.some((h) => !lab.announced.has(h)) && performance.now() < deadline) await sleep(200)
    const missing = seeded.infoHashes.filter((h) => !lab.announced.has(h)).length
    const announcedAt = seeded.infoHashes.map((h) => lab.announced.get(h)).filter((t) => t !== undefined)
    const allAnnouncedS = Math.max(...announcedAt) / 1000
    const perArchive = (seeded.rssBytes - seeded.baselineRssBytes) / ARCHIVES
    const loadAnnounced = loadavg()
    log(`  every archive seeding after ${seeded.seedSeconds.toFixed(1)} s; the DHT held an announce of ${ARCHIVES - missing}/${ARCHIVES} after ${allAnnouncedS.toFixed(1)} s (from the child's start), load ${loadText(loadAnnounced)}`)
    log(`  seeder RSS ${mib(seeded.baselineRssBytes)} MiB with its DHT joined, ${mib(seeded.rssBytes)} MiB with ${ARCHIVES} archives: ${(perArchive / KIB).toFixed(1)} KiB per archive`)
    const windowStart = Math.ceil((performance.now() - lab.since) / 1000)
    const startup = Array.from({ length: windowStart }, (_, i) => lab.perSecond[i] ?? 0)
    const startupPackets = startup.reduce((a, b) => a + b, 0)
    log(`  ${startupPackets} packets to the DHT in the first ${windowStart} s (${(startupPackets / windowStart).toFixed(1)}/s, max ${Math.max(...startup)} in one second); counting ${WINDOW_S} s of steady state...`)
    await sleep(WINDOW_S * 1000)
    const window = Array.from({ length: WINDOW_S }, (_, i) => lab.perSecond[windowStart + i] ?? 0)
    const steadyRate = window.reduce((a, b) => a + b, 0) / WINDOW_S
    const received = lab.perSecond.reduce((a, b) => a + (b ?? 0), 0)
    // The issue asks for the first 30 minutes: the rate in every 5 minutes from the child's start.
    const perFiveMinutes = Array.from({ length: Math.floor((windowStart + WINDOW_S) / 300) }, (_, k) =>
      Array.from({ length: 300 }, (_, i) => lab.perSecond[k * 300 + i] ?? 0).reduce((a, b) => a + b, 0) / 300)
    if (perFiveMinutes.length > 0) log(`  packets/s to the DHT in each 5 minutes from the child's start: ${perFiveMinutes.map((r) => r.toFixed(2)).join(', ')}`)
    const ask = async (): Promise<[RssReply, RssReply | undefined]> => {
      child.send('rss')
      const reply = await child.nextLine<RssReply>(Date.now() + 10_000, `${name}: RSS after the window`)
      idle?.send('rss')
      return [reply, await idle?.nextLine<RssReply>(Date.now() + 10_000, `${name}: the idle seeder's RSS`)]
    }
    const [after, idleAfter] = await ask()
    const perArchiveAfter = (after.rssBytes - seeded.baselineRssBytes) / ARCHIVES
    const loadWindow = loadavg()
    log(`  steady state: ${steadyRate.toFixed(1)} packets/s to the DHT (max ${Math.max(...window)} in one second), load ${loadText(loadWindow)}; seeder RSS ${mib(after.rssBytes)} MiB, ${(perArchiveAfter / KIB).toFixed(1)} KiB per archive` +
      (after.heapUsedBytes === undefined || seeded.baselineHeapUsedBytes === undefined ? '' : `; JS heap in use ${mib(after.heapUsedBytes)} MiB: ${((after.heapUsedBytes - seeded.baselineHeapUsedBytes) / ARCHIVES / KIB).toFixed(1)} KiB per archive (V8 holds ${mib(after.heapTotalBytes ?? 0)} MiB for it), external ${mib(after.externalBytes ?? 0)} MiB`))
    const againstIdle = (ours: RssReply, theirs: RssReply | undefined, when: string): number | undefined => {
      if (theirs === undefined) return undefined
      const perArchive = (ours.rssBytes - theirs.rssBytes) / ARCHIVES
      const kinds = (r: RssReply): string => r.byKind === undefined ? 'n/a' : `glibc heap ${mib(r.byKind.brk)}, other anonymous ${mib(r.byKind.anon)}, files ${mib(r.byKind.file)} MiB`
      log(`  ${when}, against an idle seeder (${mib(theirs.rssBytes)} MiB): ${(perArchive / KIB).toFixed(1)} KiB per archive; seeder ${kinds(ours)}; idle ${kinds(theirs)}`)
      return perArchive
    }
    const perArchiveIdle = againstIdle(after, idleAfter, 'at the same moment')
    let trimmed: { rssBytes: number, idleRssBytes?: number, perArchiveBytes?: number } | undefined
    if (MALLOC_TRIM) {
      for (const c of [child, idle]) if (c?.process.pid !== undefined) mallocTrim(c.process.pid)
      const [ours, theirs] = await ask()
      trimmed = { rssBytes: ours.rssBytes, idleRssBytes: theirs?.rssBytes, perArchiveBytes: againstIdle(ours, theirs, 'both after malloc_trim(0)') }
    }
    let elsewhere: Record<string, number> | undefined
    if (after.counters !== undefined && after.sentTo !== undefined) {
      // libtorrent's own log of the packets it sent: every one must have gone to a local node, or
      // to itself (the nodes hand its own address back in their answers; on loopback it does not
      // know it is its own).
      const local = new Set(lab.nodes.map((n) => `127.0.0.1:${n.address().port}`))
      elsewhere = Object.fromEntries(Object.entries(after.sentTo).filter(([node]) => !local.has(node) && node !== after.self))
      const logged = Object.values(after.sentTo).reduce((a, b) => a + b, 0)
      log(`  libtorrent: ${after.counters['dht.dht_messages_out']} DHT messages sent (${after.counters['dht.dht_messages_out_dropped']} dropped, ${after.counters['dht.dht_bytes_out']} bytes); its packet log: ${logged}, ${after.sentTo[after.self ?? ''] ?? 0} of them to itself, the rest to ${local.size} local nodes (received ${received}), to any other address: ${JSON.stringify(elsewhere)}`)
    }
    const { seconds: lookups, failures } = await lookupRandom(lab.bootstrap, seeded.infoHashes)
    log(`  lookup -> 1 KiB file of a random archive: median ${(median(lookups) * 1000).toFixed(0)} ms (${lookups.map((s) => (s * 1000).toFixed(0)).join(', ')})`)
    for (const failure of failures) log(`  lookup failed: ${failure}`)
    return {
      client: name, archives: ARCHIVES, nodes: NODES, seedSeconds: seeded.seedSeconds, allAnnouncedSeconds: allAnnouncedS, missing,
      baselineRssBytes: seeded.baselineRssBytes, rssBytes: seeded.rssBytes, rssAfterWindowBytes: after.rssBytes, rssPerArchiveBytes: perArchive,
      rssPerArchiveAfterWindowBytes: perArchiveAfter, idleRssAfterWindowBytes: idleAfter?.rssBytes, rssPerArchiveAgainstIdleBytes: perArchiveIdle, byKind: after.byKind, idleByKind: idleAfter?.byKind, trimmed, heapUsedAfterWindowBytes: after.heapUsedBytes, baselineHeapUsedBytes: seeded.baselineHeapUsedBytes, startupPackets, startup, steadyPacketsPerSecond: steadyRate, window, perFiveMinutes,
      receivedByNodes: received, counters: after.counters, sentTo: after.sentTo, elsewhere, announcedAtMs: announcedAt.sort((a, b) => a - b),
      lookupSeconds: lookups, lookupFailures: failures, loadBefore, loadAnnounced, loadWindow
    }
  } finally {
    child.closeStdin()
    await Promise.all([child.stop(KILL_GRACE_MS), closeIdle()])
    await Promise.all(lab.nodes.map((n) => new Promise<void>((resolve) => n.destroy(() => resolve()))))
  }
}

async function orchestrate (json: boolean): Promise<void> {
  const log = (line: string): void => { if (!json) console.log(line) }
  const workDir = mkdtempSync(join(tmpdir(), 'tl-scale-archives-'))
  process.once('exit', () => { killChildren(); rmSync(workDir, { recursive: true, force: true }) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  if (CLIENTS.includes('lt')) await exportArchives(ARCHIVES, workDir)
  const runs: ClientRun[] = []
  for (const name of CLIENTS) runs.push(await runClient(name, workDir, log))
  log(`load after: ${loadText(loadavg())}`)
  if (json) console.log(JSON.stringify(runs, null, 2))
  process.exitCode = runs.every((r) => r.missing === 0 && Object.keys(r.elsewhere ?? {}).length === 0 && r.lookupFailures.length === 0) ? 0 : 1
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
