/**
 * Loopback throughput of one seeder to one downloader: trackerless, libtorrent and WebTorrent in
 * the pairings asked for. A report, not a test: it prints figures and issue 8's P1-P3 verdicts on
 * them, and its exit code says only whether every pair completed. See bench/README.md.
 */
import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KILL_GRACE_MS, killChildren, startChild, type Child } from './child.js'
import { DATA_NAME, LT_PEER, findDownloaded, prepareBench, sameContent } from './data.js'
import { busyPercent, readCpuTimes, stealPercent, type CpuTimes } from './proc.js'

const MIB = 1 << 20
const GIB = 1 << 30
const PEERS = ['lt', 'tl', 'wt'] as const
type PeerKind = typeof PEERS[number]

const DEFAULT_PAIRS = 'lt-lt,tl-tl,wt-wt,lt-tl,tl-lt'

/**
 * BENCH_ENCRYPTION's settings: each peer's default; 'plain': MSE/PE off (trackerless 'disable',
 * libtorrent pe_disabled); 'rc4': RC4 both ways (trackerless 'require', libtorrent pe_forced with
 * RC4 alone). WebTorrent speaks no MSE.
 */
const ENCRYPTIONS = {
  default: {},
  plain: { BENCH_TL_ENCRYPTION: 'disable', LT_PEER_ENC: 'disabled' },
  rc4: { BENCH_TL_ENCRYPTION: 'require', LT_PEER_ENC: 'forced' }
} as const
type Encryption = keyof typeof ENCRYPTIONS

interface Config {
  readonly megabytes: number
  readonly pairs: readonly Pair[]
  readonly timeoutMs: number
  readonly python: string
  readonly json: boolean
}

interface Pair {
  /** seeder-downloader, and /plain or /rc4 past the default encryption. */
  readonly name: string
  readonly seeder: PeerKind
  readonly downloader: PeerKind
  readonly encryption: Encryption
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
const nodePeers: Record<Exclude<PeerKind, 'lt'>, string> = { tl: join(here, 'tl-peer.js'), wt: join(here, 'wt-peer.js') }

function readConfig (argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const megabytes = Number(env.BENCH_MB ?? '1024')
  const timeoutS = Number(env.BENCH_TIMEOUT_S ?? '120')
  if (!Number.isInteger(megabytes) || megabytes < 1) throw new Error(`BENCH_MB must be a whole number of MiB ≥ 1, got "${env.BENCH_MB}"`)
  if (!(timeoutS > 0)) throw new Error(`BENCH_TIMEOUT_S must be a positive number of seconds, got "${env.BENCH_TIMEOUT_S}"`)
  const encryptions = (env.BENCH_ENCRYPTION ?? 'default').split(',').map((text) => parseEncryption(text.trim()))
  const pairs = encryptions.flatMap((encryption) => (env.BENCH_PAIRS ?? DEFAULT_PAIRS).split(',').map((text) => parsePair(text.trim(), encryption)))
  for (const arg of argv) {
    if (arg !== '--json') throw new Error(`unknown argument "${arg}"; the only flag is --json (settings come from BENCH_* variables)`)
  }
  return { megabytes, pairs, timeoutMs: timeoutS * 1000, python: env.BENCH_PYTHON ?? '/usr/bin/python3', json: argv.includes('--json') }
}

function parseEncryption (text: string): Encryption {
  if (Object.hasOwn(ENCRYPTIONS, text)) return text as Encryption
  throw new Error(`BENCH_ENCRYPTION entry "${text}" is not one of ${Object.keys(ENCRYPTIONS).join(', ')}`)
}

function parsePair (text: string, encryption: Encryption): Pair {
  const [seeder, downloader, extra] = text.split('-')
  const isPeer = (s: string | undefined): s is PeerKind => PEERS.some((p) => p === s)
  if (!isPeer(seeder) || !isPeer(downloader) || extra !== undefined) {
    throw new Error(`BENCH_PAIRS entry "${text}" is not seeder-downloader with each of ${PEERS.join(', ')} (e.g. lt-tl)`)
  }
  if (encryption !== 'default' && (seeder === 'wt' || downloader === 'wt')) {
    throw new Error(`BENCH_PAIRS entry "${text}" cannot run with BENCH_ENCRYPTION ${encryption}: WebTorrent speaks no MSE/PE`)
  }
  return { name: text + suffix(encryption), seeder, downloader, encryption }
}

function suffix (encryption: Encryption): string {
  return encryption === 'default' ? '' : `/${encryption}`
}

function peerCommand (kind: PeerKind, python: string, args: readonly string[]): [string, string[]] {
  return kind === 'lt' ? [python, [LT_PEER, ...args]] : [process.execPath, [nodePeers[kind], ...args]]
}

async function runPair (pair: Pair, config: Config, torrent: string, seedDir: string, source: string, workDir: string): Promise<PairResult> {
  const downloadDir = join(workDir, `download-${pair.name.replace('/', '-')}`)
  mkdirSync(downloadDir)
  const env = ENCRYPTIONS[pair.encryption]
  const seeder = startChild(...peerCommand(pair.seeder, config.python, ['seed', torrent, seedDir]), { timeoutMs: config.timeoutMs, env })
  let downloader: Child | undefined
  let before: CpuTimes | null = null
  try {
    const { port } = await seeder.nextLine<{ port: number }>(Date.now() + config.timeoutMs, `${pair.seeder} seeder checking its data`)
    before = readCpuTimes()
    downloader = startChild(...peerCommand(pair.downloader, config.python, ['download', torrent, downloadDir, `127.0.0.1:${port}`]), { timeoutMs: config.timeoutMs, env })
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

/** Fills in each result's speed relative to lt-lt (with the same encryption) and wt-wt from the same run. */
function withRatios (results: readonly PairResult[]): PairResult[] {
  const wt = completed(results, 'wt-wt')
  return results.map((r) => {
    if (!r.ok) return r
    const lt = completed(results, 'lt-lt' + r.pair.slice(r.pair.indexOf('/') === -1 ? r.pair.length : r.pair.indexOf('/')))
    return { ...r, ratioToLibtorrent: lt === null ? null : r.mbPerSecond / lt.mbPerSecond, ratioToWebTorrent: wt === null ? null : r.mbPerSecond / wt.mbPerSecond }
  })
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

async function main (): Promise<number> {
  const config = readConfig(process.argv.slice(2), process.env)
  const { workDir, seedDir, source, torrent, created } = await prepareBench('trackerless-bench-', config.megabytes, config.python, config.timeoutMs)
  const log = (text: string): void => { if (!config.json) process.stdout.write(text + '\n') }
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
