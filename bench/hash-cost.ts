/**
 * What creating a torrent costs as v1, v2 and hybrid: buildMetainfo (the hashing behind seed())
 * over one file of 256 MiB and 1 GiB, each version timed three times, best kept. The file is
 * written once and read through the page cache, so the figures are hashing, not disk.
 *
 *   node dist/bench/hash-cost.js [sizeMiB ...]
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildMetainfo, sourceStorage, type TreeSource } from '../lib/client/build-torrent.js'
import type { MetainfoVersion } from '../lib/metainfo/types.js'

const RUNS = 3
const MiB = 1024 * 1024

async function writeFile (file: string, size: number): Promise<void> {
  const handle = await fs.open(file, 'w')
  const chunk = Buffer.alloc(4 * MiB)
  try {
    for (let at = 0; at < size; at += chunk.length) {
      for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i)
      await handle.write(chunk, 0, Math.min(chunk.length, size - at))
    }
  } finally {
    await handle.close()
  }
}

async function main (): Promise<void> {
  const sizes = process.argv.slice(2).map(Number)
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-hash-cost-'))
  try {
    console.log(`load average before: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`)
    for (const mib of sizes.length > 0 ? sizes : [256, 1024]) {
      const file = path.join(dir, `data-${mib}.bin`)
      await writeFile(file, mib * MiB)
      const tree: TreeSource = { name: path.basename(file), multiFile: false, files: [{ path: path.basename(file), length: mib * MiB }] }
      for (const version of [1, 2, 'hybrid'] as MetainfoVersion[]) {
        let best = Infinity
        for (let run = 0; run < RUNS; run++) {
          const start = process.hrtime.bigint()
          await buildMetainfo(tree, sourceStorage(file, tree), { version })
          best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9)
        }
        console.log(`${String(mib).padStart(5)} MiB  v${String(version).padEnd(6)}  ${best.toFixed(2)} s  ${(mib / best).toFixed(0)} MiB/s`)
      }
      await fs.rm(file)
    }
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

await main()
