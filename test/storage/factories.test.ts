import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { directoryStorage, joinInside, memoryStorage } from '../../lib/storage/factories.js'
import type { RandomAccessStorage } from '../../lib/storage/types.js'

function run<T> (fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => { if (err) reject(err); else resolve(value) }))
}

test('paths that escape the directory throw EBADTORRENT', () => {
  const root = path.resolve('/srv/data')
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', '..', '.', '', 'a/..', 'C:\\x', 'a\0b']) {
    assert.throws(() => joinInside(root, bad), { code: 'EBADTORRENT' }, JSON.stringify(bad))
  }
  assert.equal(joinInside(root, 'a/b/c.txt'), path.join(root, 'a', 'b', 'c.txt'))
  assert.equal(joinInside(root, 'a/../b'), path.join(root, 'b'))
  assert.equal(joinInside(root, '..foo'), path.join(root, '..foo'))
})

test('directoryStorage writes files under its directory', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trackerless-factories-'))
  t.after(() => fs.rm(dir, { recursive: true, force: true }))
  const factory = directoryStorage(dir)
  assert.throws(() => factory('../escape'), { code: 'EBADTORRENT' })
  const file: RandomAccessStorage = factory('name/sub/file.bin')
  await run<void>((cb) => file.write(2, Buffer.from('hi'), cb))
  await run<void>((cb) => file.close(cb))
  assert.deepEqual(await fs.readFile(path.join(dir, 'name', 'sub', 'file.bin')), Buffer.from([0, 0, 0x68, 0x69]))
})

test('memoryStorage gives a second opener a copy, never shares an open file, and frees a file once closed', async () => {
  const factory = memoryStorage()
  const a = factory('t/a')
  await run<void>((cb) => a.write(0, Buffer.from('abc'), cb))
  const twin = factory('t/a')
  assert.notEqual(twin, a, 'a second opener gets its own copy')
  assert.deepEqual(await run<Buffer>((cb) => twin.read(0, 3, cb)), Buffer.from('abc'))
  await run<void>((cb) => a.close(cb))
  assert.deepEqual(await run<Buffer>((cb) => twin.read(0, 3, cb)), Buffer.from('abc'), 'closing one opener does not close the other')
  await run<void>((cb) => twin.write(0, Buffer.from('xyz'), cb))
  await run<void>((cb) => twin.close(cb))
  // No resume in memory: a gateway opens archive after archive, and kept files would pile up.
  const again = factory('t/a')
  assert.equal((await run<{ size: number }>((cb) => again.stat(cb)))?.size, 0, 'a reopen after the last close starts empty')
  await run<void>((cb) => again.close(cb))
})

test('memoryStorage({ limit }) counts the pages of all its files, copies too, refuses past the limit with ENOMEM, and gets them back at close', async () => {
  const MiB = 2 ** 20
  const factory = memoryStorage({ limit: 3 * MiB })
  const a = factory('t/a')
  const b = factory('t/b')
  await run<void>((cb) => a.write(0, Buffer.alloc(10), cb))
  await run<void>((cb) => a.write(100, Buffer.alloc(10), cb))
  await run<void>((cb) => b.write(MiB - 5, Buffer.alloc(10), cb))
  await assert.rejects(run<void>((cb) => a.write(MiB, Buffer.alloc(1), cb)), { code: 'ENOMEM', message: /memoryLimit of 3 MiB/ })
  const twin = factory('t/b')
  await assert.rejects(run<void>((cb) => a.write(MiB, Buffer.alloc(1), cb)), { code: 'ENOMEM' }, 'the copy holds two pages of its own')
  await run<void>((cb) => twin.close(cb))
  await run<void>((cb) => b.close(cb))
  await run<void>((cb) => a.write(MiB, Buffer.alloc(2 * MiB), cb))
  await assert.rejects(run<void>((cb) => factory('t/c').write(0, Buffer.alloc(1), cb)), { code: 'ENOMEM' })
})
