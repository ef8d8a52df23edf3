import type { TestContext } from 'node:test'
import fs from 'node:fs/promises'
import path from 'node:path'
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'

export const KiB = 1024
const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const

/**
 * Four files in 16 KiB pieces: a.bin 0-40K (pieces 0-2), b.bin 40-76K (2-4), c.bin 76-116K (4-7),
 * d.bin 116-136K (7-8). b shares piece 2 with a's tail and piece 4 with c's head; d shares only
 * with c.
 */
const FILES = { 'a.bin': 40 * KiB, 'b.bin': 36 * KiB, 'c.bin': 40 * KiB, 'd.bin': 20 * KiB }

export interface SelectScene { seeder: Torrent, leecher: Torrent, magnet: string, src: string, out: string, stateDir: string, data: Record<string, Buffer> }

/** A seeder of FILES (a folder `src`) and a leecher storing into `out` with resume data, both started. */
export async function selectScene (t: TestContext): Promise<SelectScene> {
  // Removed only once both clients stopped: the leecher writes its resume data as it stops.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-select-'))
  const stopped: Array<() => Promise<void>> = []
  t.after(async () => {
    await Promise.all(stopped.map((stop) => stop()))
    await fs.rm(dir, { recursive: true, force: true })
  })
  const src = path.join(dir, 'src')
  const out = path.join(dir, 'out')
  const stateDir = path.join(dir, 'state')
  await fs.mkdir(src)
  await fs.mkdir(out)
  const data: Record<string, Buffer> = {}
  for (const [name, size] of Object.entries(FILES)) {
    data[name] = randomBytes(size)
    await fs.writeFile(path.join(src, name), data[name]!)
  }
  const seeder = new Torrent(LOCAL)
  const leecher = new Torrent({ ...LOCAL, storage: out, stateDir })
  stopped.push(() => seeder.stop(), () => leecher.stop())
  await Promise.all([seeder.start(), leecher.start()])
  // v1: the scene needs files that share pieces, which the pad files of a hybrid would remove.
  const magnet = await seeder.seed(src, { version: 1 })
  return { seeder, leecher, magnet, src, out, stateDir, data }
}

