/**
 * Random seek latency: one seeder (bench/tl-peer.js in its own process) holds a 1 GiB file; a
 * reader opens it lazily over loopback and seeks 20 times to random offsets, each in a piece it
 * does not have yet, timing createReadStream() to its first byte. Prints the median and spread.
 * A report, not a test: it never judges the figure (the goal is a median of 50 ms or less).
 *
 *   npm run build && node dist/bench/seek.js            (SEEK_MB=256 for a smaller file)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomFillSync, randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Torrent, type Archive } from '../index.js'
import { buildMetainfo, readTree } from '../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../lib/metainfo/create.js'
import { directoryStorage } from '../lib/storage/factories.js'

const MIB = 1 << 20
const SEEKS = 20
const READ_BYTES = 64 * 1024
const LIMIT_MS = 120_000

async function writeData (file: string, bytes: number): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(MIB))
  const handle = await open(file, 'w')
  try {
    for (let pos = 0, i = 0; pos < bytes; pos += MIB, i++) {
      block.writeUInt32BE(i, 0)
      await handle.write(block, 0, Math.min(MIB, bytes - pos), pos)
    }
  } finally {
    await handle.close()
  }
}

/** The seeder's port, once it has verified its data and listens. */
function startSeeder (torrent: string, dir: string): Promise<{ child: ChildProcess, port: number }> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'tl-peer.js')
  const child = spawn(process.execPath, [script, 'seed', torrent, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the seeder did not start within ${LIMIT_MS} ms`)), LIMIT_MS)
    child.once('exit', (code) => reject(new Error(`the seeder exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer)
      resolve({ child, port: (JSON.parse(line) as { port: number }).port })
    })
  })
}

/** Milliseconds from createReadStream() to the first chunk of bytes at `offset`. */
async function seek (archive: Archive, path: string, offset: number): Promise<number> {
  const started = performance.now()
  const stream = archive.createReadStream(path, { start: offset, end: offset + READ_BYTES - 1 })
  try {
    for await (const chunk of stream) {
      if ((chunk as Buffer).length > 0) return performance.now() - started
    }
    throw new Error(`no bytes at offset ${offset}`)
  } finally {
    stream.destroy()
  }
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

async function main (): Promise<void> {
  const bytes = Number(process.env.SEEK_MB ?? '1024') * MIB
  const work = mkdtempSync(join(tmpdir(), 'trackerless-seek-'))
  let seeder: ChildProcess | null = null
  const reader = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  try {
    const file = join(work, 'seek.bin')
    await writeData(file, bytes)
    const meta = await buildMetainfo(await readTree(file), directoryStorage(work, { readOnly: true }))
    const torrentPath = join(work, 'seek.torrent')
    await writeFile(torrentPath, encodeTorrentFile(meta))
    const started = await startSeeder(torrentPath, work)
    seeder = started.child

    await reader.start()
    const archive = await reader.lookup(await readFile(torrentPath), { download: 'lazy', peers: [`127.0.0.1:${started.port}`] })
    // The first seek also waits for the handshake and the unchoke: reported, not counted.
    const warmUp = await seek(archive, '/seek.bin', 0)

    const used = new Set<number>([0])
    const times: number[] = []
    while (times.length < SEEKS) {
      const offset = randomInt(0, bytes - READ_BYTES)
      const piece = Math.floor(offset / meta.pieceLength)
      const lastPiece = Math.floor((offset + READ_BYTES - 1) / meta.pieceLength)
      if (used.has(piece) || used.has(lastPiece)) continue
      used.add(piece).add(lastPiece)
      times.push(await seek(archive, '/seek.bin', offset))
    }
    const sorted = [...times].sort((a, b) => a - b)
    const fmt = (ms: number): string => `${ms.toFixed(1)} ms`
    console.log(`random seek to first byte: ${bytes / MIB} MiB file, ${meta.pieceLength / MIB} MiB pieces, ${SEEKS} seeks, lazy, one seeder on 127.0.0.1`)
    console.log(`  median ${fmt(percentile(sorted, 0.5))}  min ${fmt(sorted[0]!)}  p90 ${fmt(percentile(sorted, 0.9))}  max ${fmt(sorted.at(-1)!)}  (first seek with handshake: ${fmt(warmUp)})`)
    console.log(`  fetched ${(archive.progress * 100).toFixed(1)}% of the file for ${SEEKS + 1} seeks`)
  } finally {
    await reader.stop()
    seeder?.kill('SIGTERM')
    rmSync(work, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
