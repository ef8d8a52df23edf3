/**
 * Scale benchmark (issue 25): one torrent of many pieces (65,536 by default: 1 GiB of zeros in
 * 16 KiB pieces, so its info dict is the ~1.3 MB of a 64 GiB torrent in 1 MiB pieces) fetched from
 * a bare magnet link through one named peer on 127.0.0.1: magnet -> metadata (BEP9), -> first byte
 * of the file, -> every piece verified, and the downloader's peak RSS; libtorrent to libtorrent on
 * the same .torrent beside it. A report, not a test.
 *
 *   node dist/bench/scale-pieces.js [--json]      BENCH_PIECES=65536 BENCH_PIECE_KB=16 BENCH_PAIRS=tl-tl,lt-lt,lt-tl
 *
 * Run as `scale-pieces.js magnet <infohash> <dir> <host:port>` it is the trackerless downloader.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { rm, truncate } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent, directoryStorage } from '../index.js'
import { KILL_GRACE_MS, killChildren, startChild, type Child } from './child.js'
import { DATA_NAME, LT_PEER } from './data.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'

const PIECES = Number(process.env.BENCH_PIECES ?? 65536)
const PIECE_KB = Number(process.env.BENCH_PIECE_KB ?? 16)
const PAIRS = (process.env.BENCH_PAIRS ?? 'tl-tl,lt-lt').split(',')
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_S ?? 180) * 1000
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const here = dirname(fileURLToPath(import.meta.url))
const tlPeer = join(here, 'tl-peer.js')

interface Report {
  readonly bytes: number
  readonly seconds: number
  readonly metadataSeconds?: number
  readonly firstByteSeconds?: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
}

function emit (record: object): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

/** The trackerless downloader: a bare magnet and one peer, timed to metadata, first byte and done. */
async function magnetDownload (infoHash: string, dir: string, peer: string): Promise<void> {
  const client = new Torrent({
    dht: false, lsd: false, pex: false, storage: directoryStorage(dir), torrentPort: 0, host: '127.0.0.1', natTraversal: false
  })
  await client.start()
  const started = performance.now()
  const archive = await client.lookup(`magnet:?xt=urn:btih:${infoHash}`, { download: 'all', peers: [peer], timeout: TIMEOUT_MS })
  const metadataSeconds = (performance.now() - started) / 1000
  const first = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    archive.createReadStream(`/${DATA_NAME}`, { start: 0, end: 0 })
      .on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject)
  })
  const firstByteSeconds = (performance.now() - started) / 1000
  if (first.length < 1) throw new Error('read no first byte')
  await new Promise<void>((resolve, reject) => {
    const limit = setTimeout(() => reject(new Error(`not complete within ${TIMEOUT_MS / 1000} s (progress ${archive.progress})`)), TIMEOUT_MS)
    const poll = setInterval(() => {
      if (archive.progress === 1) { clearInterval(poll); clearTimeout(limit); resolve() }
    }, 100)
  })
  const seconds = (performance.now() - started) / 1000
  emit({ bytes: archive.length, seconds, metadataSeconds, firstByteSeconds, cpuSeconds: ownCpuSeconds(), peakRssBytes: ownPeakRssBytes() })
  await client.stop()
}

interface Setup { workDir: string, seedDir: string, torrent: string, infoHash: string }

/** A work folder removed at exit, holding `bytes` of zeros in a sparse file and libtorrent's .torrent of it. */
async function sparseSetup (bytes: number, pieceBytes: number): Promise<Setup> {
  const workDir = mkdtempSync(join(tmpdir(), 'tl-scale-pieces-'))
  process.once('exit', () => { killChildren(); rmSync(workDir, { recursive: true, force: true }) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const seedDir = join(workDir, 'seed')
  mkdirSync(seedDir)
  const source = join(seedDir, DATA_NAME)
  writeFileSync(source, '')
  await truncate(source, bytes)
  const torrent = join(workDir, 'bench.torrent')
  const creator = startChild(PYTHON, [LT_PEER, 'create', source, torrent, '--piece-length', String(pieceBytes)], { timeoutMs: TIMEOUT_MS })
  const { infoHash } = await creator.nextLine<{ infoHash: string }>(Date.now() + TIMEOUT_MS, 'creating the .torrent')
  await creator.stop(KILL_GRACE_MS)
  return { workDir, seedDir, torrent, infoHash }
}

async function runPair (pair: string, setup: Setup, index: number): Promise<Report | { error: string }> {
  const [seederKind, downloaderKind] = pair.split('-')
  const dir = join(setup.workDir, `dl-${index}`)
  mkdirSync(dir)
  let seeder: Child | undefined
  let downloader: Child | undefined
  try {
    const deadline = Date.now() + TIMEOUT_MS
    seeder = seederKind === 'lt'
      ? startChild(PYTHON, [LT_PEER, 'seed', setup.torrent, setup.seedDir], { timeoutMs: TIMEOUT_MS, stdin: true })
      : startChild(process.execPath, [tlPeer, 'seed', setup.torrent, setup.seedDir], { timeoutMs: TIMEOUT_MS, stdin: true })
    const { port } = await seeder.nextLine<{ port: number }>(deadline, `${pair}: seeder checking the data`)
    const peer = `127.0.0.1:${port}`
    const magnet = `magnet:?xt=urn:btih:${setup.infoHash}`
    downloader = downloaderKind === 'lt'
      ? startChild(PYTHON, [LT_PEER, 'download', magnet, dir, peer], { timeoutMs: TIMEOUT_MS })
      : startChild(process.execPath, [fileURLToPath(import.meta.url), 'magnet', setup.infoHash, dir, peer], { timeoutMs: TIMEOUT_MS })
    return await downloader.nextLine<Report>(Date.now() + TIMEOUT_MS, `${pair}: downloading`)
  } catch (err) {
    return { error: (err as Error).message }
  } finally {
    await downloader?.stop(KILL_GRACE_MS)
    seeder?.closeStdin()
    await seeder?.stop(KILL_GRACE_MS)
    await rm(dir, { recursive: true, force: true })
  }
}

async function orchestrate (json: boolean): Promise<void> {
  const pieceBytes = PIECE_KB * 1024
  const bytes = PIECES * pieceBytes
  const log = (line: string): void => { if (!json) console.log(line) }
  const setup = await sparseSetup(bytes, pieceBytes)
  log(`${PIECES} pieces of ${PIECE_KB} KiB (${(bytes / 2 ** 20).toFixed(0)} MiB of zeros), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const results: Record<string, Report | { error: string }> = {}
  for (const [i, pair] of PAIRS.entries()) {
    const r = await runPair(pair, setup, i)
    results[pair] = r
    if ('error' in r) log(`  ${pair}: failed: ${r.error}`)
    else {
      log(`  ${pair}: ${r.metadataSeconds !== undefined ? `metadata ${r.metadataSeconds.toFixed(2)} s, first byte ${r.firstByteSeconds!.toFixed(2)} s, ` : ''}` +
        `all ${r.seconds.toFixed(1)} s, downloader CPU ${r.cpuSeconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`)
    }
  }
  log(`load after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  if (json) console.log(JSON.stringify({ pieces: PIECES, pieceBytes, results, loadavg: loadavg() }, null, 2))
  process.exitCode = Object.values(results).some((r) => 'error' in r) ? 1 : 0
}

const [mode, infoHash, dir, peer] = process.argv.slice(2)
const run = mode === 'magnet' && infoHash !== undefined && dir !== undefined && peer !== undefined
  ? magnetDownload(infoHash, dir, peer)
  : orchestrate(process.argv.includes('--json'))
run.catch((err: unknown) => {
  process.stderr.write(`scale-pieces: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  killChildren()
  process.exit(1)
})
