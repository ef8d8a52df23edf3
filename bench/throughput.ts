/**
 * Loopback throughput of one seeder to one downloader: trackerless, libtorrent and WebTorrent in
 * the pairings asked for. A report, not a test: it prints figures and issue 8's P1-P3 verdicts on
 * them, and its exit code says only whether every pair completed. See bench/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { open, readdir, rm, stat } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { busyPercent, readCpuTimes, stealPercent, type CpuTimes } from './proc.js'

const MIB = 1 << 20
const GIB = 1 << 30
const DATA_NAME = 'bench-data.bin'
const PEERS = ['lt', 'tl', 'wt'] as const
type PeerKind = typeof PEERS[number]
/** Grace between SIGTERM and SIGKILL for a child that is told to stop. */
const KILL_GRACE_MS = 3000
/** Peak bytes of a child's stderr kept for a failure report. */
const STDERR_TAIL = 2048

const DEFAULT_PAIRS = 'lt-lt,tl-tl,wt-wt,lt-tl,tl-lt'

interface Config {
  readonly megabytes: number
  readonly pairs: readonly Pair[]
  readonly timeoutMs: number
  readonly python: string
  readonly json: boolean
}

interface Pair {
  readonly name: string
  readonly seeder: PeerKind
  readonly downloader: PeerKind
}

/** What a downloader prints as its last line. */
interface DownloadReport {
  readonly bytes: number
  readonly seconds: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
}

/** The whole machine while the downloader ran (null when the pair failed before it started). */
interface MachineLoad {
  readonly stealPercent: number | null
  readonly busyPercent: number | null
}

type PairResult = MachineLoad & (
  | ({ readonly pair: string, readonly ok: true, readonly mbPerSecond: number, readonly cpuSecondsPerGiB: number,
    readonly ratioToLibtorrent: number | null, readonly ratioToWebTorrent: number | null } & DownloadReport)
  | { readonly pair: string, readonly ok: false, readonly error: string })

function machineLoad (before: CpuTimes | null): MachineLoad {
  if (before === null) return { stealPercent: null, busyPercent: null }
  const after = readCpuTimes()
  return { stealPercent: stealPercent(before, after), busyPercent: busyPercent(before, after) }
}

/** Where the rest of bench/ is, for the end of `npm run bench`. */
const OTHER_BENCHES = 'npm run bench:swarm (P5, 1 seeder + 8 downloaders), node dist/bench/seek.js, node dist/bench/discovery.js, node dist/bench/picker.js; see bench/README.md'

const here = dirname(fileURLToPath(import.meta.url))
/** The compiled file sits in <outDir>/bench/; the Python peer, shared with the interop tests, stays in the source tree. */
const pythonPeer = resolve(here, '..', '..', 'test', 'interop', 'lt_peer.py')
const nodePeers: Record<Exclude<PeerKind, 'lt'>, string> = { tl: join(here, 'tl-peer.js'), wt: join(here, 'wt-peer.js') }

const children = new Set<ChildProcess>()

function readConfig (argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const megabytes = Number(env.BENCH_MB ?? '1024')
  const timeoutS = Number(env.BENCH_TIMEOUT_S ?? '120')
  if (!Number.isInteger(megabytes) || megabytes < 1) throw new Error(`BENCH_MB must be a whole number of MiB ≥ 1, got "${env.BENCH_MB}"`)
  if (!(timeoutS > 0)) throw new Error(`BENCH_TIMEOUT_S must be a positive number of seconds, got "${env.BENCH_TIMEOUT_S}"`)
  const pairs = (env.BENCH_PAIRS ?? DEFAULT_PAIRS).split(',').map((text) => parsePair(text.trim()))
  for (const arg of argv) {
    if (arg !== '--json') throw new Error(`unknown argument "${arg}"; the only flag is --json (settings come from BENCH_* variables)`)
  }
  return { megabytes, pairs, timeoutMs: timeoutS * 1000, python: env.BENCH_PYTHON ?? '/usr/bin/python3', json: argv.includes('--json') }
}

function parsePair (text: string): Pair {
  const [seeder, downloader, extra] = text.split('-')
  const isPeer = (s: string | undefined): s is PeerKind => PEERS.some((p) => p === s)
  if (!isPeer(seeder) || !isPeer(downloader) || extra !== undefined) {
    throw new Error(`BENCH_PAIRS entry "${text}" is not seeder-downloader with each of ${PEERS.join(', ')} (e.g. lt-tl)`)
  }
  return { name: text, seeder, downloader }
}

/** A file of random-looking MiBs: one random MiB with its index stamped in, so every piece differs. */
async function writeData (file: string, megabytes: number): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(MIB))
  const handle = await open(file, 'w')
  try {
    for (let i = 0; i < megabytes; i++) {
      block.writeUInt32LE(i, 0)
      block.writeUInt32LE(i, MIB / 2)
      await handle.write(block, 0, MIB, i * MIB)
    }
  } finally {
    await handle.close()
  }
}

/** A running child whose stdout is JSON lines. */
interface Child {
  readonly process: ChildProcess
  /** The next JSON line on stdout; rejects if the child exits first or the deadline passes. */
  nextLine<T>(deadline: number, what: string): Promise<T>
  /**
   * Ends the child: lets it exit by itself for `graceMs`, then SIGTERM, then SIGKILL after another
   * grace period; resolves once it has exited.
   */
  stop(graceMs?: number): Promise<void>
}

function startChild (command: string, args: readonly string[], timeoutMs: number): Child {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BENCH_PEER_LIMIT_S: String(timeoutMs / 1000) }
  })
  children.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
  const exited = new Promise<void>((done) => child.once('close', () => { children.delete(child); done() }))
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject))
  spawnError.catch(() => undefined)
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const describe = (): string => `${basename(args[0] ?? command)} ${args[1] ?? ''}`.trim()

  return {
    process: child,
    async nextLine<T>(deadline: number, what: string): Promise<T> {
      const waitMs = Math.max(0, deadline - Date.now())
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: took longer than ${Number((waitMs / 1000).toFixed(1))} s`)), waitMs)
      })
      try {
        const next = await Promise.race([lines.next(), timeout, spawnError])
        if (next.done === true) {
          await exited
          throw new Error(`${what}: ${describe()} exited (code ${child.exitCode ?? child.signalCode}) before reporting${stderr === '' ? '' : `:\n${stderr.trimEnd()}`}`)
        }
        return JSON.parse(next.value) as T
      } finally {
        clearTimeout(timer)
      }
    },
    async stop (graceMs = 0): Promise<void> {
      const term = setTimeout(() => child.kill('SIGTERM'), graceMs)
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs + KILL_GRACE_MS)
      await exited
      clearTimeout(term)
      clearTimeout(force)
    }
  }
}

function peerCommand (kind: PeerKind, python: string, args: readonly string[]): [string, string[]] {
  return kind === 'lt' ? [python, [pythonPeer, ...args]] : [process.execPath, [nodePeers[kind], ...args]]
}

/** Finds the one file called `name` anywhere under `dir`, wherever the client chose to put it. */
async function findDownloaded (dir: string, name: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const found = entries.filter((e) => e.isFile() && e.name === name).map((e) => join(e.parentPath, e.name))
  if (found.length !== 1) throw new Error(`expected one downloaded ${name} under ${dir}, found ${found.length}`)
  return found[0]!
}

/** Byte-for-byte comparison, cheaper than hashing both files and just as strict. */
async function sameContent (a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)])
  if (sa.size !== sb.size) return false
  const [ha, hb] = await Promise.all([open(a, 'r'), open(b, 'r')])
  const chunk = 4 * MIB
  const ba = Buffer.allocUnsafe(chunk)
  const bb = Buffer.allocUnsafe(chunk)
  try {
    for (let pos = 0; pos < sa.size; pos += chunk) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, chunk, pos), hb.read(bb, 0, chunk, pos)])
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false
    }
    return true
  } finally {
    await Promise.all([ha.close(), hb.close()])
  }
}

async function runPair (pair: Pair, config: Config, torrent: string, seedDir: string, source: string, workDir: string): Promise<PairResult> {
  const downloadDir = join(workDir, `download-${pair.name}`)
  mkdirSync(downloadDir)
  const seeder = startChild(...peerCommand(pair.seeder, config.python, ['seed', torrent, seedDir]), config.timeoutMs)
  let downloader: Child | undefined
  let before: CpuTimes | null = null
  try {
    const { port } = await seeder.nextLine<{ port: number }>(Date.now() + config.timeoutMs, `${pair.seeder} seeder checking its data`)
    before = readCpuTimes()
    downloader = startChild(...peerCommand(pair.downloader, config.python, ['download', torrent, downloadDir, `127.0.0.1:${port}`]), config.timeoutMs)
    const report = await downloader.nextLine<DownloadReport>(Date.now() + config.timeoutMs, `${pair.downloader} downloader`)
    const load = machineLoad(before)
    await downloader.stop(KILL_GRACE_MS)
    if (!await sameContent(source, await findDownloaded(downloadDir, DATA_NAME))) {
      throw new Error('the downloaded file differs from the source')
    }
    return {
      pair: pair.name,
      ok: true,
      ...report,
      mbPerSecond: report.bytes / report.seconds / 1e6,
      cpuSecondsPerGiB: report.cpuSeconds / (report.bytes / GIB),
      ratioToLibtorrent: null,
      ratioToWebTorrent: null,
      ...load
    }
  } catch (err) {
    return { pair: pair.name, ok: false, error: err instanceof Error ? err.message : String(err), ...machineLoad(before) }
  } finally {
    await Promise.all([seeder.stop(), downloader?.stop()])
    await rm(downloadDir, { recursive: true, force: true })
  }
}

type Completed = Extract<PairResult, { ok: true }>

function completed (results: readonly PairResult[], pair: string): Completed | null {
  const found = results.find((r) => r.pair === pair)
  return found?.ok === true ? found : null
}

/** Fills in each result's speed relative to lt-lt and wt-wt from the same run. */
function withRatios (results: readonly PairResult[]): PairResult[] {
  const lt = completed(results, 'lt-lt')
  const wt = completed(results, 'wt-wt')
  return results.map((r) => (r.ok
    ? { ...r, ratioToLibtorrent: lt === null ? null : r.mbPerSecond / lt.mbPerSecond, ratioToWebTorrent: wt === null ? null : r.mbPerSecond / wt.mbPerSecond }
    : r))
}

/** One of issue 8's targets, judged on this run's figures; `met` is null when a pair it needs did not complete. */
interface Verdict {
  readonly target: string
  readonly measured: string
  readonly met: boolean | null
}

/** P1-P3 of issue 8, each a comparison within this run: reported, never enforced. */
function verdicts (results: readonly PairResult[]): Verdict[] {
  const tl = completed(results, 'tl-tl')
  const lt = completed(results, 'lt-lt')
  const wt = completed(results, 'wt-wt')
  const missing = (...pairs: string[]): string => `not measured: needs ${pairs.join(' and ')} to complete`
  const rssMiB = 100
  return [
    {
      target: 'P1 throughput: tl-tl at least 1.0x lt-lt',
      measured: tl !== null && lt !== null ? `${(tl.mbPerSecond / lt.mbPerSecond).toFixed(2)}x (${tl.mbPerSecond.toFixed(1)} vs ${lt.mbPerSecond.toFixed(1)} MB/s)` : missing('tl-tl', 'lt-lt'),
      met: tl !== null && lt !== null ? tl.mbPerSecond >= lt.mbPerSecond : null
    },
    {
      target: 'P1 throughput: tl-tl at least 3x wt-wt',
      measured: tl !== null && wt !== null ? `${(tl.mbPerSecond / wt.mbPerSecond).toFixed(2)}x (${tl.mbPerSecond.toFixed(1)} vs ${wt.mbPerSecond.toFixed(1)} MB/s)` : missing('tl-tl', 'wt-wt'),
      met: tl !== null && wt !== null ? tl.mbPerSecond >= 3 * wt.mbPerSecond : null
    },
    {
      target: `P2 memory: tl-tl downloader's peak RSS at most ${rssMiB} MiB`,
      measured: tl !== null ? `${(tl.peakRssBytes / MIB).toFixed(0)} MiB` : missing('tl-tl'),
      met: tl !== null ? tl.peakRssBytes <= rssMiB * MIB : null
    },
    {
      target: 'P3 CPU: tl-tl downloader\'s CPU-s/GiB at most lt-lt\'s',
      measured: tl !== null && lt !== null ? `${tl.cpuSecondsPerGiB.toFixed(2)} vs ${lt.cpuSecondsPerGiB.toFixed(2)} CPU-s/GiB` : missing('tl-tl', 'lt-lt'),
      met: tl !== null && lt !== null ? tl.cpuSecondsPerGiB <= lt.cpuSecondsPerGiB : null
    }
  ]
}

function formatVerdicts (list: readonly Verdict[]): string {
  const word = (met: boolean | null): string => (met === null ? '-' : met ? 'met' : 'NOT MET')
  return list.map((v) => `${word(v.met).padEnd(7)}  ${v.target}: ${v.measured}`).join('\n')
}

function formatTable (results: readonly PairResult[]): string {
  const header = ['pair', 'MB/s', 'seconds', 'CPU-s', 'CPU-s/GiB', 'peak RSS MiB', 'vs lt-lt', 'vs wt-wt', 'steal %', 'busy %']
  const fixed = (n: number | null, digits: number): string => (n === null ? '-' : n.toFixed(digits))
  const rows = results.map((r) => {
    const load = [fixed(r.stealPercent, 1), fixed(r.busyPercent, 0)]
    if (!r.ok) return [r.pair, 'FAILED', '-', '-', '-', '-', '-', '-', ...load]
    return [r.pair, fixed(r.mbPerSecond, 1), fixed(r.seconds, 2), fixed(r.cpuSeconds, 2), fixed(r.cpuSecondsPerGiB, 2),
      fixed(r.peakRssBytes / MIB, 0), fixed(r.ratioToLibtorrent, 2), fixed(r.ratioToWebTorrent, 2), ...load]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const failures = results.flatMap((r) => (r.ok ? [] : [`${r.pair} failed: ${r.error}`]))
  return [line(header), ...rows.map(line), ...failures].join('\n')
}

function killChildren (): void {
  for (const child of children) child.kill('SIGKILL')
}

async function main (): Promise<number> {
  const config = readConfig(process.argv.slice(2), process.env)
  const workDir = mkdtempSync(join(tmpdir(), 'trackerless-bench-'))
  const cleanUp = (): void => { killChildren(); rmSync(workDir, { recursive: true, force: true }) }
  process.once('exit', cleanUp)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const log = (text: string): void => { if (!config.json) process.stdout.write(text + '\n') }

  const seedDir = join(workDir, 'seed')
  mkdirSync(seedDir)
  const source = join(seedDir, DATA_NAME)
  const torrent = join(workDir, 'bench.torrent')
  await writeData(source, config.megabytes)
  const creator = startChild(config.python, [pythonPeer, 'create', source, torrent], config.timeoutMs)
  const created = await creator.nextLine<{ infoHash: string, libtorrentVersion: string }>(Date.now() + config.timeoutMs, 'creating the .torrent')
  await creator.stop(KILL_GRACE_MS)
  log(`${config.megabytes} MiB single file, 1 MiB pieces, loopback TCP; libtorrent ${created.libtorrentVersion}, node ${process.version}; load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)

  const results: PairResult[] = []
  for (const pair of config.pairs) {
    const result = await runPair(pair, config, torrent, seedDir, source, workDir)
    results.push(result)
    log(result.ok ? `${pair.name}: ${result.mbPerSecond.toFixed(1)} MB/s` : `${pair.name}: failed`)
  }
  const final = withRatios(results)
  const judged = verdicts(final)
  if (config.json) {
    process.stdout.write(JSON.stringify({ megabytes: config.megabytes, pieceBytes: MIB, libtorrentVersion: created.libtorrentVersion, node: process.version, infoHash: created.infoHash, loadAverage: loadavg(), results: final, verdicts: judged }, null, 2) + '\n')
  } else {
    log('\n' + formatTable(final))
    log('\nIssue 8 targets (a report; the exit code ignores them):\n' + formatVerdicts(judged))
    log(`\nOther benches (after npm run build): ${OTHER_BENCHES}`)
  }
  return final.every((r) => r.ok) ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
  killChildren()
})
