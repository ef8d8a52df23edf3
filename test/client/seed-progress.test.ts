import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { Torrent } from '../../lib/client/torrent.js'
import { Output } from '../../lib/cli/output.js'
import { showHashing } from '../../lib/cli/progress.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'

test('seed() reports hashing progress: growing, and ending at the torrent\'s length, pad files included', async (t) => {
  const dir = await tmpDir(t)
  const site = path.join(dir, 'site')
  await fs.mkdir(site)
  // Three files of sizes that leave pad files between them with { pad: true }.
  const sizes = [5 * 1024 * 1024 + 3, 1234, 9 * 1024 * 1024]
  for (const [i, size] of sizes.entries()) await writeRandomFile(path.join(site, `f${i}.bin`), size)
  const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await client.start()
  t.after(() => client.stop())
  const heard: Array<[number, number]> = []
  await client.seed(site, { pad: true, onProgress: (hashed, total) => heard.push([hashed, total]) })
  assert.ok(heard.length > 1, `one report per read of at most 4 MiB, got ${heard.length}`)
  const total = heard[0]![1]
  assert.ok(total > sizes.reduce((a, b) => a + b), 'the total counts the pad files')
  for (const [i, [hashed, t2]] of heard.entries()) {
    assert.equal(t2, total)
    if (i > 0) assert.ok(hashed > heard[i - 1]![0])
  }
  assert.equal(heard.at(-1)![0], total)
})

test('the seed command draws a hashing bar on a terminal and nothing when output is not one', () => {
  const draw = (isTTY: boolean): string => {
    const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 })
    let text = ''
    stream.on('data', (c: Buffer) => { text += c.toString() })
    const out = new Output({ json: false, quiet: false, verbose: false, results: new PassThrough(), messages: stream })
    const view = showHashing(out)
    for (let hashed = 0; hashed <= 100; hashed += 10) view.update(hashed * 1024 * 1024, 100 * 1024 * 1024)
    view.stop()
    return text
  }
  const bar = draw(true)
  assert.match(bar, /hashing .* 100% \| 100\.0 MiB of 100\.0 MiB/)
  assert.equal(draw(false), '')
})
