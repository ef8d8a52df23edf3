import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Torrent, Archive } from '../../index.js'
import { startJsonChild } from '../helpers/json-child.js'

const CHILD = fileURLToPath(new URL('../helpers/memory-child.js', import.meta.url))
const LOCAL = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const SIZE = 24 * 1024 * 1024

interface Usage { stage: string, arrayBuffers: number, rss: number }

test(`memory storage is freed when the archive closes and when the client stops (${SIZE >> 20} MiB download)`, { timeout: 120_000 }, async (t) => {
  const seeder = new Torrent(LOCAL)
  await seeder.start()
  t.after(() => seeder.stop())
  const draft = new Archive()
  await draft.writeFile('/data.bin', randomBytes(SIZE))
  const magnet = await seeder.seed(draft)
  const child = startJsonChild(t, 'downloader', process.execPath, ['--expose-gc', CHILD, `127.0.0.1:${seeder.port}`, magnet])
  const before = await child.next<Usage>('before', 30_000)
  const downloaded = await child.next<Usage>('downloaded', 90_000)
  const closed = await child.next<Usage>('closed', 30_000)
  const stopped = await child.next<Usage>('stopped', 30_000)
  const held = (u: Usage): number => u.arrayBuffers - before.arrayBuffers
  // The download itself must have been held in memory, or the test cannot tell freed from never held.
  assert.ok(held(downloaded) >= SIZE, `only ${held(downloaded)} bytes held after downloading ${SIZE}`)
  assert.ok(held(closed) < SIZE / 2, `${held(closed)} bytes of buffers still held after archive.close() (the archive is ${SIZE})`)
  assert.ok(held(stopped) < SIZE / 2, `${held(stopped)} bytes of buffers still held after client.stop() (the archive is ${SIZE})`)
})
