import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { once } from '../helpers/fixtures.js'
import { selectScene as setup, KiB } from '../helpers/select-scene.js'
import { throwsCode } from '../helpers/errors.js'

async function exists (file: string): Promise<boolean> {
  return await fs.stat(file).then(() => true, () => false)
}

test('lookup({ files }) fetches those files; unselected ones get only the shared pieces\' bytes on disk; a restart resumes the selection', async (t) => {
  const { seeder, leecher, magnet, out, data } = await setup(t)
  const peers = [`127.0.0.1:${seeder.port}`]
  const archive = await leecher.lookup(magnet, { peers, files: ['/b.bin'], timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  assert.equal(archive.progress, 1, 'progress counts the selected files')
  assert.equal(archive.stats().eta, 0)
  assert.ok(archive.downloaded <= 3 * 16 * KiB, `only pieces 2-4 were fetched, ${archive.downloaded} bytes came`)

  const dir = path.join(out, 'src')
  assert.deepEqual(await fs.readFile(path.join(dir, 'b.bin')), data['b.bin'])
  assert.equal(await exists(path.join(dir, 'd.bin')), false, 'd.bin shares no piece with b.bin: never created')
  assert.deepEqual(await fs.readFile(path.join(dir, 'c.bin')), data['c.bin']!.subarray(0, 4 * KiB), 'c.bin holds piece 4\'s bytes only')
  const a = await fs.readFile(path.join(dir, 'a.bin'))
  assert.deepEqual(a.subarray(32 * KiB), data['a.bin']!.subarray(32 * KiB), 'a.bin holds piece 2\'s bytes')
  assert.ok(a.subarray(0, 32 * KiB).every((byte) => byte === 0), 'and nothing before them')

  // A read of an unselected file still fetches what it reads.
  assert.deepEqual(await archive.readFile('/d.bin', { signal: AbortSignal.timeout(10_000) }), data['d.bin'])
  await archive.close()

  // Resume data: the selected pieces are not fetched again.
  const again = await leecher.lookup(magnet, { peers, files: ['/b.bin', '/d.bin'], timeout: 10_000 })
  if (again.progress < 1) await once(again, 'done', 20_000)
  assert.equal(again.downloaded, 0, 'b.bin and d.bin were on disk and in the resume data')
})

test('a magnet\'s so= selects by file index; lookup\'s files win over it; an unknown path is ENOENT', async (t) => {
  const { seeder, leecher, magnet, out, data } = await setup(t)
  const peers = [`127.0.0.1:${seeder.port}`]
  await assert.rejects(leecher.lookup(magnet, { peers, files: ['/nope.bin'], timeout: 10_000 }), { code: 'ENOENT' })
  await assert.rejects(leecher.lookup(magnet, { peers, files: [7], timeout: 10_000 }), { code: 'ENOENT' })
  const archive = await leecher.lookup(`${magnet}&so=3,9-12`, { peers, timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  const dir = path.join(out, 'src')
  assert.deepEqual(await fs.readFile(path.join(dir, 'd.bin')), data['d.bin'])
  assert.equal(await exists(path.join(dir, 'a.bin')), false)
  assert.equal(await exists(path.join(dir, 'b.bin')), false)
  assert.equal(leecher.torrents()[0]!.progress, 1)
})

test('archive.download() and deselect() on a lazy archive; done again once a grown selection completes', async (t) => {
  const { seeder, leecher, magnet, out, data } = await setup(t)
  const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  assert.equal(archive.progress, 0)
  throwsCode(() => archive.download('/nope'), 'ENOENT')
  archive.download('/')
  archive.deselect('/b.bin')
  archive.deselect('/c.bin')
  archive.setPriority('/d.bin', 'high')
  await once(archive, 'done', 20_000)
  const dir = path.join(out, 'src')
  assert.deepEqual(await fs.readFile(path.join(dir, 'a.bin')), data['a.bin'])
  assert.deepEqual(await fs.readFile(path.join(dir, 'd.bin')), data['d.bin'])
  assert.equal(await exists(path.join(dir, 'b.bin')), true, 'b.bin shares piece 2 with a.bin')
  assert.ok((await fs.stat(path.join(dir, 'b.bin'))).size <= 8 * KiB)

  archive.download('/b.bin')
  assert.ok(archive.progress < 1)
  await once(archive, 'done', 20_000)
  assert.deepEqual(await fs.readFile(path.join(dir, 'b.bin')), data['b.bin'])
  await archive.close()
  throwsCode(() => archive.download('/a.bin'), 'ECLOSED')
})
