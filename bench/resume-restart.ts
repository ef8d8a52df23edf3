/**
 * Restart time of a seed with and without resume data: a file of SIZE_MIB (default 1024) MiB in a
 * folder, opened by its .torrent on directoryStorage(dir, { overwrite: true }) three times: with no
 * stateDir (every piece hashed), then with a stateDir twice (the first hashes and saves, the second
 * trusts the saved pieces). Run: npm run build && node dist/bench/resume-restart.js [SIZE_MIB]
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Torrent, directoryStorage } from '../index.js'
import { writeRandomFile } from '../test/helpers/fixtures.js'

const sizeMiB = Number(process.argv[2] ?? 1024)
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-resume-bench-'))
try {
  const file = path.join(dir, 'data', 'seed.bin')
  await writeRandomFile(file, sizeMiB * 1024 * 1024)
  const maker = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await maker.start()
  const torrent = maker.torrentFile(await maker.seed(file))!
  await maker.stop()
  const open = async (stateDir?: string): Promise<number> => {
    const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: directoryStorage(path.join(dir, 'data'), { overwrite: true }), ...(stateDir !== undefined ? { stateDir } : {}) })
    await client.start()
    const started = performance.now()
    const archive = await client.lookup(torrent, { timeout: 600_000 })
    const ms = performance.now() - started
    if (archive.progress !== 1) throw new Error(`progress ${archive.progress}`)
    await client.stop()
    return ms
  }
  const state = path.join(dir, 'state')
  const without = await open()
  const saving = await open(state)
  const resumed = await open(state)
  console.log(JSON.stringify({ sizeMiB, withoutResumeMs: Math.round(without), firstWithStateDirMs: Math.round(saving), withResumeMs: Math.round(resumed) }))
} finally {
  await fs.rm(dir, { recursive: true, force: true })
}
