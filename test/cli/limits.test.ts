import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { InvalidArgumentError } from 'commander'
import { Torrent } from '../../index.js'
import { parseRate } from '../../lib/cli/size.js'
import { clientOptions } from '../../lib/cli/common.js'
import { OFFLINE, run } from './child.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const KiB = 1024

test('--download-limit and --upload-limit take bytes per second with K, M, G suffixes', () => {
  assert.equal(parseRate('500K'), 500 * KiB)
  assert.equal(parseRate('2M'), 2 * KiB * KiB)
  assert.equal(parseRate('2MiB/s'), 2 * KiB * KiB)
  assert.equal(parseRate('12345'), 12345)
  assert.equal(parseRate('0'), 0)
  for (const bad of ['fast', '-1', '1.5M', '', '2X']) assert.throws(() => parseRate(bad), InvalidArgumentError, bad)
  const opts = clientOptions({ dht: false, lsd: false, pex: false, downloadLimit: 1000, uploadLimit: 0 })
  assert.equal(opts.downloadLimit, 1000)
  assert.equal(opts.uploadLimit, 0)
})

test('a bad rate is bad usage (exit 2), in the flag\'s words', async () => {
  const r = await run(['get', 'x', '--download-limit', 'fast', ...OFFLINE])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--download-limit.*fast.*expected bytes per second, e\.g\. 500K or 2M/s)
})

test('get --download-limit reaches the client: 1 MiB at 256K takes at least its 4 s, less the burst saved at start', async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 1024 * KiB)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  t.after(() => seeder.stop())
  await seeder.start()
  const magnet = await seeder.seed(file)
  const out = path.join(dir, 'out')
  const started = performance.now()
  const r = await run(['get', magnet, '--peer', `127.0.0.1:${seeder.port}`, '-o', out, '--download-limit', '256K', ...OFFLINE], { ms: 20_000 })
  const seconds = (performance.now() - started) / 1000
  assert.equal(r.code, 0, r.stderr)
  assert.equal((await fs.stat(path.join(out, 'data.bin'))).size, 1024 * KiB)
  // 0.25 s of burst (64 KiB) and one block may go before the pace sets in: (1024 - 80) / 256 s at least.
  assert.ok(seconds >= (1024 - 80) / 256, `took ${seconds.toFixed(2)} s`)
})

test('cat --memory-limit: a file larger than the limit fails with what to do, exit 1', async (t) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 4 * 1024 * KiB)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  t.after(() => seeder.stop())
  await seeder.start()
  const magnet = await seeder.seed(file)
  const r = await run(['cat', magnet, '/data.bin', '--peer', `127.0.0.1:${seeder.port}`, '--memory-limit', '1M', ...OFFLINE], { ms: 20_000 })
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /memoryLimit of 1 MiB.*CLI: --memory-limit/)
  assert.ok(r.stdout.length < 4 * 1024 * KiB, 'not the whole file')
})
