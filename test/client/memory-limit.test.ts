import { test } from 'node:test'
import assert from 'node:assert/strict'
import os from 'node:os'
import path from 'node:path'
import RandomAccessMemory from 'random-access-memory'
import { Torrent } from '../../index.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { defaultMemoryLimit } from '../../lib/storage/bounded-memory.js'

const MiB = 2 ** 20
const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const

for (const [name, storage] of [['the default memory storage', undefined], ['storage: RandomAccessMemory', RandomAccessMemory]] as const) {
  test(`${name} holds at most memoryLimit: the download past it fails with ENOMEM, the process lives on`, async (t) => {
    const dir = await tmpDir(t)
    const file = path.join(dir, 'data.bin')
    await writeRandomFile(file, 6 * MiB)
    const seeder = new Torrent(LOCAL)
    const leecher = new Torrent({ ...LOCAL, memoryLimit: 2 * MiB, ...(storage !== undefined ? { storage } : {}) })
    t.after(() => Promise.all([seeder.stop(), leecher.stop()]))
    await Promise.all([seeder.start(), leecher.start()])
    const magnet = await seeder.seed(file)
    const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], download: 'all' })
    const failed = once<[Error & { code?: string }]>(archive, 'error', 20_000)
    await assert.rejects(archive.readFile('/data.bin', { signal: AbortSignal.timeout(20_000) }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ENOMEM')
      assert.match(err.message, /memoryLimit of 2 MiB/)
      assert.match(err.message, /Download it to a folder instead \(the storage option; CLI: trackerless get -o DIR\).*raise memoryLimit \(CLI: --memory-limit\)/)
      return true
    })
    const [err] = await failed
    assert.equal(err.code, 'ENOMEM')
    assert.ok(archive.progress > 0 && archive.progress < 1, `pieces within the limit were kept: progress ${archive.progress}`)
    // The pages go back at close: the same client can hold a torrent that fits again.
    await archive.close()
    const again = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`] })
    const chunks: Buffer[] = []
    for await (const chunk of again.createReadStream('/data.bin', { start: 0, end: 999 })) chunks.push(chunk as Buffer)
    assert.equal(Buffer.concat(chunks).length, 1000)
  })
}

test('memoryLimit is validated, 0 means no limit, and the default is half the memory', () => {
  for (const bad of [-1, NaN, '1G']) {
    assert.throws(() => new Torrent({ ...LOCAL, memoryLimit: bad as number }), { code: 'ERR_INVALID_ARG_VALUE', message: /"memoryLimit"/ })
  }
  assert.doesNotThrow(() => new Torrent({ ...LOCAL, memoryLimit: 0 }))
  const limit = defaultMemoryLimit()
  assert.ok(limit > 0 && limit <= Math.ceil(os.totalmem() / 2), `default ${limit}`)
})
