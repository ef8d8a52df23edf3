import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent } from '../../index.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const run = promisify(execFile)
const child = fileURLToPath(new URL('../helpers/download-child.js', import.meta.url))
const MiB = 1024 * 1024
const SIZE = 64 * MiB

test('a downloader killed half-way resumes on the same folder and fetches only what is missing', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'src', 'data.bin'), SIZE)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(path.join(dir, 'src', 'data.bin'))
  const out = path.join(dir, 'out')
  const peer = `127.0.0.1:${seeder.port}`

  const killed = await run(process.execPath, [child, magnet, peer, out, '0.5']).then(() => null, (err: { signal?: string }) => err)
  assert.equal(killed?.signal, 'SIGKILL', 'the first run should have been killed half-way')

  const { stdout } = await run(process.execPath, [child, magnet, peer, out])
  const second = JSON.parse(stdout) as { foundOnDisk: number, downloaded: number }
  assert.ok(second.foundOnDisk >= 0.4, `the second run found ${second.foundOnDisk} of the data already verified on disk`)
  // What was missing, plus a little for end-game duplicates: never the verified half again.
  const missing = (1 - second.foundOnDisk) * SIZE
  assert.ok(second.downloaded <= missing + 2 * MiB, `fetched ${second.downloaded} bytes while ${missing} were missing`)
  const [want, got] = await Promise.all([fs.readFile(path.join(dir, 'src', 'data.bin')), fs.readFile(path.join(out, 'data.bin'))])
  assert.ok(got.equals(want), 'the resumed file differs from the source')
})
