/** The benchmarks' test data: written once, and compared byte for byte with what a peer downloaded. */
import { randomFillSync } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KILL_GRACE_MS, killChildren, startChild } from './child.js'

const MIB = 1 << 20
/** The data file's name, and so the torrent's. */
export const DATA_NAME = 'bench-data.bin'
/** The libtorrent peer script: the compiled bench sits in <outDir>/bench/, the script stays in the source tree. */
export const LT_PEER = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'interop', 'lt_peer.py')

export interface BenchSetup {
  /** Removed at exit, after every child is killed. */
  workDir: string
  seedDir: string
  /** The data file, seedDir/DATA_NAME. */
  source: string
  /** The .torrent libtorrent made of it (1 MiB pieces). */
  torrent: string
  created: { infoHash: string, libtorrentVersion: string }
}

/**
 * A work folder named `prefix`… under the temp dir, cleaned up at exit or on a signal, holding
 * `megabytes` of data and the .torrent libtorrent made of it (1 MiB pieces unless `pieceBytes`
 * says otherwise); the same for every bench.
 */
export async function prepareBench (prefix: string, megabytes: number, python: string, timeoutMs: number, pieceBytes = MIB): Promise<BenchSetup> {
  const workDir = mkdtempSync(join(tmpdir(), prefix))
  process.once('exit', () => { killChildren(); rmSync(workDir, { recursive: true, force: true }) })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  const seedDir = join(workDir, 'seed')
  mkdirSync(seedDir)
  const source = join(seedDir, DATA_NAME)
  const torrent = join(workDir, 'bench.torrent')
  await writeData(source, megabytes)
  const creator = startChild(python, [LT_PEER, 'create', source, torrent, '--piece-length', String(pieceBytes)], { timeoutMs })
  const created = await creator.nextLine<BenchSetup['created']>(Date.now() + timeoutMs, 'creating the .torrent')
  await creator.stop(KILL_GRACE_MS)
  return { workDir, seedDir, source, torrent, created }
}

/** A file of random-looking MiBs: one random MiB with its index stamped in, so every piece differs. */
export async function writeData (file: string, megabytes: number): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(MIB))
  const handle = await open(file, 'w')
  try {
    for (let i = 0; i < megabytes; i++) {
      block.writeUInt32LE(i, 0)
      block.writeUInt32LE(i, MIB / 2)
      await handle.write(block, 0, MIB, i * MIB)
    }
    // Otherwise the kernel writes the file back while the first pair runs, and that pair pays for it.
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

/** Finds the one file called `name` anywhere under `dir`, wherever the client chose to put it. */
export async function findDownloaded (dir: string, name: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const found = entries.filter((e) => e.isFile() && e.name === name).map((e) => join(e.parentPath, e.name))
  if (found.length !== 1) throw new Error(`expected one downloaded ${name} under ${dir}, found ${found.length}`)
  return found[0]!
}

/** Byte-for-byte comparison, cheaper than hashing both files and just as strict. */
export async function sameContent (a: string, b: string): Promise<boolean> {
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
