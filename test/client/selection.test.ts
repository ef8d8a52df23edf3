import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'
import { once, tmpDir } from '../helpers/fixtures.js'
import { throwsCode } from '../helpers/errors.js'

const KiB = 1024
const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const

/**
 * Four files in 16 KiB pieces: a.bin 0-40K (pieces 0-2), b.bin 40-76K (2-4), c.bin 76-116K (4-7),
 * d.bin 116-136K (7-8). b shares piece 2 with a's tail and piece 4 with c's head; d shares only
 * with c.
 */
const FILES = { 'a.bin': 40 * KiB, 'b.bin': 36 * KiB, 'c.bin': 40 * KiB, 'd.bin': 20 * KiB }

interface Setup { seeder: Torrent, leecher: Torrent, magnet: string, src: string, out: string, stateDir: string, data: Record<string, Buffer> }

async function setup (t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t, 'tl-select-')
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
  t.after(() => Promise.all([seeder.stop(), leecher.stop()]))
  await Promise.all([seeder.start(), leecher.start()])
  const magnet = await seeder.seed(src)
  return { seeder, leecher, magnet, src, out, stateDir, data }
}

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
