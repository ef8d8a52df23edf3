/**
 * trackerless side of the throughput and swarm benchmarks (bench/throughput.ts, bench/swarm.ts run
 * it), through the public API only. Same modes and output lines as test/interop/lt_peer.py and
 * bench/lt-swarm-peer.py:
 *   seed <torrent> <data-dir>              prints {"port": N} once the data is verified, runs until
 *                                          SIGTERM or until a piped stdin closes
 *   download <torrent> <dir> <host:port>   prints {"bytes", "seconds", "cpuSeconds", "peakRssBytes"}
 *   swarm <torrent> <dir>                  prints {"port": N}, reads one line {"peers": ["host:port", ...]}
 *                                          on stdin, downloads from them, prints the download line,
 *                                          then seeds until stdin closes
 */
import { readFile } from 'node:fs/promises'
import { Torrent, directoryStorage, type EncryptionPolicy } from '../index.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'
import { nextStdinLine, onStdinClosed } from './stdin.js'

/** Bounds every wait so that a stuck peer never hangs the benchmark; the orchestrator has its own. */
const WAIT_LIMIT_MS = Number(process.env.BENCH_PEER_LIMIT_S ?? '600') * 1000
/** How often completion is re-checked, in case 'done' fired before we listened. */
const POLL_MS = 250

type Archive = Awaited<ReturnType<Torrent['lookup']>>

function emit (record: Record<string, number>): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

/** The `encryption` option, when the orchestrator sets one (BENCH_ENCRYPTION); else the default. */
const ENCRYPTION = process.env.BENCH_TL_ENCRYPTION as EncryptionPolicy | undefined

/** The address to listen on (the shaped benches run each peer at its own address in a namespace). */
const HOST = process.env.BENCH_HOST ?? '127.0.0.1'
/** BENCH_SUPER_SEED=1: the seeder super-seeds (BEP16). */
const SUPER_SEED = process.env.BENCH_SUPER_SEED === '1'
/** BENCH_TRANSPORT=utp: uTP only, TCP off both ways (as libtorrent's --utp-only); 'tcp': TCP only. */
const TRANSPORT = process.env.BENCH_TRANSPORT

/** `overwrite`: the seeder's data was written by the benchmark, not downloaded by trackerless. */
function openClient (dir: string): Torrent {
  return new Torrent({
    dht: false, lsd: false, pex: false, storage: directoryStorage(dir, { overwrite: true }), torrentPort: 0, host: HOST,
    natTraversal: false, tcp: TRANSPORT !== 'utp', utp: TRANSPORT !== 'tcp',
    ...(ENCRYPTION !== undefined ? { encryption: ENCRYPTION } : {})
  })
}

/** Resolves once every piece of the archive is verified; rejects on an 'error' event or after the limit. */
function complete (archive: Archive, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const finish = (err?: unknown): void => {
      clearInterval(poll)
      clearTimeout(limit)
      archive.off('done', onDone)
      archive.off('error', finish)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDone = (): void => finish()
    const poll = setInterval(() => { if (archive.progress === 1) finish() }, POLL_MS)
    const limit = setTimeout(
      () => finish(new Error(`${what}: not complete within ${WAIT_LIMIT_MS / 1000} s (progress ${archive.progress})`)),
      WAIT_LIMIT_MS
    )
    archive.on('done', onDone)
    archive.on('error', finish)
    if (archive.progress === 1) finish()
  })
}

async function seed (torrentPath: string, dataDir: string): Promise<void> {
  const torrent = await readFile(torrentPath)
  const client = openClient(dataDir)
  await client.start()
  const archive = await client.lookup(torrent, { download: 'all', superSeed: SUPER_SEED })
  await complete(archive, `verifying the data in ${dataDir}`)
  emit({ port: client.port })
  serveUntilTold(client)
}

/** Serves until the orchestrator's SIGTERM or the end of a piped stdin; stops cleanly so the port is released at once. */
function serveUntilTold (client: Torrent): void {
  const stop = (): void => { client.stop().finally(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  onStdinClosed(stop)
}

async function download (torrentPath: string, dir: string, peer: string): Promise<void> {
  const torrent = await readFile(torrentPath)
  const client = openClient(dir)
  await client.start()
  const started = performance.now()
  const archive = await client.lookup(torrent, { download: 'all', peers: [peer] })
  await complete(archive, `downloading from ${peer}`)
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = ownCpuSeconds()
  const peakRssBytes = ownPeakRssBytes()
  // stop() closes storage, so the file is whole on disk when the orchestrator compares it.
  await client.stop()
  emit({ bytes: archive.length, seconds, cpuSeconds, peakRssBytes })
}

async function swarm (torrentPath: string, dir: string): Promise<void> {
  const torrent = await readFile(torrentPath)
  const client = openClient(dir)
  await client.start()
  emit({ port: client.port })
  const { peers } = JSON.parse(await nextStdinLine(WAIT_LIMIT_MS, 'waiting for the swarm\'s addresses')) as { peers: string[] }
  const started = performance.now()
  const archive = await client.lookup(torrent, { download: 'all', peers })
  await complete(archive, `downloading from ${peers.length} peers`)
  const seconds = (performance.now() - started) / 1000
  emit({ bytes: archive.length, seconds, cpuSeconds: ownCpuSeconds(), peakRssBytes: ownPeakRssBytes() })
  serveUntilTold(client)
}

async function main (argv: readonly string[]): Promise<void> {
  const [mode, torrent, dir, peer] = argv
  if (mode === 'seed' && torrent !== undefined && dir !== undefined && argv.length === 3) return seed(torrent, dir)
  if (mode === 'download' && torrent !== undefined && dir !== undefined && peer !== undefined && argv.length === 4) {
    return download(torrent, dir, peer)
  }
  if (mode === 'swarm' && torrent !== undefined && dir !== undefined && argv.length === 3) return swarm(torrent, dir)
  throw new Error('usage: tl-peer seed <torrent> <data-dir> | download <torrent> <dir> <host:port> | swarm <torrent> <dir>')
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`tl-peer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
