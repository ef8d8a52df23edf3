/**
 * WebTorrent 2.8.5 side of the throughput benchmark (bench/throughput.ts runs it). Same modes and
 * output lines as bench/tl-peer.ts and test/interop/lt_peer.py:
 *   seed <torrent> <data-dir>              prints {"port": N} once the data is verified, runs until stdin closes or SIGTERM
 *   download <torrent> <dir> <host:port>   prints {"bytes", "seconds", "cpuSeconds", "peakRssBytes"}
 * WebTorrent runs with DHT, LSD, trackers, uTP, UPnP, NAT-PMP and web seeds off, on TCP bound to
 * 127.0.0.1, with its default disk storage (fs-chunk-store) in the given directory.
 */
import type WebTorrent from 'webtorrent'
import type { WebTorrentTorrent } from 'webtorrent'
import { loopbackWebTorrent } from '../test/helpers/webtorrent.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'
import { onStdinClosed } from './stdin.js'

declare module 'webtorrent' {
  interface WebTorrentTorrent {
    /** Total bytes of the torrent; known once the metadata is. */
    readonly length: number
  }
}

/** Bounds every wait so that a stuck peer never hangs the benchmark; the orchestrator has its own. */
const WAIT_LIMIT_MS = Number(process.env.BENCH_PEER_LIMIT_S ?? '600') * 1000

function emit (record: Record<string, number>): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

/** A WebTorrent client on 127.0.0.1 with every discovery off, listening. */
async function openClient (): Promise<{ client: WebTorrent, port: number }> {
  const client = loopbackWebTorrent()
  client.on('error', (err: Error) => fail(err))
  if (!client.listening) await within(new Promise((resolve) => client.once('listening', resolve)), 'WebTorrent listening')
  const address = client.address()
  if (address === null || address.address !== '127.0.0.1') throw new Error(`WebTorrent listens on ${address?.address ?? 'nothing'}, not 127.0.0.1`)
  return { client, port: address.port }
}

/** Rejects naming `what` once the wait limit passes. */
async function within<T> (promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${WAIT_LIMIT_MS / 1000} s`)), WAIT_LIMIT_MS)
  })
  try {
    return await Promise.race([promise, limit])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once every piece is verified (for a seed: once its data on disk is checked). */
function complete (torrent: WebTorrentTorrent, what: string): Promise<void> {
  if (torrent.done) return Promise.resolve()
  return within(new Promise<void>((resolve, reject) => {
    torrent.once('done', () => resolve())
    torrent.once('error', reject)
  }), what)
}

function destroy (client: WebTorrent): Promise<void> {
  return new Promise((resolve, reject) => client.destroy((err) => (err == null ? resolve() : reject(err))))
}

async function seed (torrentPath: string, dataDir: string): Promise<void> {
  const { client, port } = await openClient()
  // Adding the .torrent over existing data makes WebTorrent hash every piece before 'done'.
  const torrent = client.add(torrentPath, { path: dataDir })
  await complete(torrent, `verifying the data in ${dataDir}`)
  emit({ port })
  const stop = (): void => { destroy(client).finally(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  onStdinClosed(stop)
}

async function download (torrentPath: string, dir: string, peer: string): Promise<void> {
  const { client } = await openClient()
  const started = performance.now()
  const torrent = client.add(torrentPath, { path: dir })
  torrent.once('infoHash', () => torrent.addPeer(peer))
  await complete(torrent, `downloading from ${peer}`)
  const seconds = (performance.now() - started) / 1000
  const cpuSeconds = ownCpuSeconds()
  const peakRssBytes = ownPeakRssBytes()
  const bytes = torrent.length
  // destroy() closes the chunk store, so the file is whole on disk when the orchestrator compares it.
  await destroy(client)
  emit({ bytes, seconds, cpuSeconds, peakRssBytes })
}

function fail (err: unknown): never {
  process.stderr.write(`wt-peer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
}

async function main (argv: readonly string[]): Promise<void> {
  const [mode, torrent, dir, peer] = argv
  if (mode === 'seed' && torrent !== undefined && dir !== undefined && argv.length === 3) return seed(torrent, dir)
  if (mode === 'download' && torrent !== undefined && dir !== undefined && peer !== undefined && argv.length === 4) {
    return download(torrent, dir, peer)
  }
  throw new Error('usage: wt-peer seed <torrent> <data-dir> | download <torrent> <dir> <host:port>')
}

main(process.argv.slice(2)).catch(fail)
