import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { constants } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { buffer } from 'node:stream/consumers'
import RandomAccessMemory from 'random-access-memory'
import { Archive, type Dirent, type Stats } from '../../index.js'
import { tmpDir, writeRandomFile, once } from '../helpers/fixtures.js'
import { localClient, addressOf, rejection, viaCallback } from './local.js'

/** A folder seeded by one client and opened lazily by magnet link in another. */
async function openSite (t: TestContext): Promise<{ archive: Archive, src: string }> {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'site')
  await fs.mkdir(path.join(src, 'docs/deep'), { recursive: true })
  await fs.writeFile(path.join(src, 'index.html'), '<h1>Hello</h1>')
  await fs.writeFile(path.join(src, 'docs/a.txt'), 'alpha')
  await writeRandomFile(path.join(src, 'docs/deep/b.bin'), 300_000)
  await fs.writeFile(path.join(src, 'empty'), '')
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src)
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
  return { archive, src }
}

test('an archive opened by magnet reads like node:fs/promises', async (t) => {
  const { archive, src } = await openSite(t)
  const b = await fs.readFile(path.join(src, 'docs/deep/b.bin'))

  assert.equal(archive.name, 'site')
  assert.match(archive.infoHash, /^[0-9a-f]{40}$/)
  assert.ok(archive.url.startsWith(`magnet:?xt=urn:btih:${archive.infoHash}`))
  assert.equal(archive.length, 14 + 5 + 300_000)
  assert.equal(archive.progress < 1, true, 'a lazy lookup fetches nothing before a read')

  assert.equal(await archive.readFile('/index.html', 'utf8'), '<h1>Hello</h1>')
  assert.equal(await archive.readFile('docs/a.txt', { encoding: 'utf8' }), 'alpha')
  assert.ok((await archive.readFile('/docs/deep/b.bin')).equals(b))
  assert.equal((await archive.readFile('/empty')).length, 0)

  assert.deepEqual(await archive.readdir('/'), ['docs', 'empty', 'index.html'])
  assert.deepEqual(await archive.readdir('/docs', { recursive: true }), ['a.txt', 'deep', 'deep/b.bin'])
  const dirents = await archive.readdir('/', { withFileTypes: true, recursive: true })
  assert.deepEqual(dirents.map((d) => [d.parentPath, d.name, d.isDirectory()]), [
    ['/', 'docs', true], ['/docs', 'a.txt', false], ['/docs', 'deep', true], ['/docs/deep', 'b.bin', false],
    ['/', 'empty', false], ['/', 'index.html', false]
  ])

  const file = await archive.stat('/docs/deep/b.bin')
  assert.equal(file.size, 300_000)
  assert.equal(file.isFile(), true)
  assert.equal(file.isDirectory(), false)
  assert.equal(file.mode, 0o100444)
  assert.equal(file.mtime.getTime(), 0)
  assert.equal(file.blocks, Math.ceil(300_000 / 512))
  const folder = await archive.stat('/docs')
  assert.equal(folder.isDirectory(), true)
  assert.equal(folder.mode, 0o40555)
  assert.equal((await archive.stat('/')).isDirectory(), true)

  assert.equal(await archive.exists('/docs/a.txt'), true)
  assert.equal(await archive.exists('/docs/nope'), false)
  await archive.access('/docs/a.txt')
  await archive.access('/docs', constants.R_OK)
  assert.equal((await rejection(archive.access('/docs/a.txt', constants.W_OK))).code, 'EROFS')

  assert.ok((await buffer(archive.createReadStream('/docs/deep/b.bin'))).equals(b))
  assert.ok((await buffer(archive.createReadStream('/docs/deep/b.bin', { start: 100_000, end: 200_000 }))).equals(b.subarray(100_000, 200_001)))
  assert.equal((await buffer(archive.createReadStream('/index.html', { start: 4 }))).toString(), 'Hello</h1>')
})

test('every method has a callback form', async (t) => {
  const { archive } = await openSite(t)
  assert.equal(await viaCallback<string>((cb) => archive.readFile('/docs/a.txt', 'utf8', cb)), 'alpha')
  assert.equal((await viaCallback<Buffer>((cb) => archive.readFile('/docs/a.txt', cb)))!.toString(), 'alpha')
  assert.deepEqual(await viaCallback<string[]>((cb) => archive.readdir('/docs', cb)), ['a.txt', 'deep'])
  const dirents = await viaCallback<Dirent[]>((cb) => archive.readdir('/docs', { withFileTypes: true }, cb))
  assert.deepEqual(dirents!.map((d) => d.name), ['a.txt', 'deep'])
  assert.equal((await viaCallback<Stats>((cb) => archive.stat('/docs/a.txt', cb)))!.size, 5)
  assert.equal(await viaCallback<boolean>((cb) => archive.exists('/docs', cb)), true)
  await viaCallback<void>((cb) => archive.access('/docs', cb))
  await viaCallback<void>((cb) => archive.access('/docs', constants.F_OK, cb))
  const missing = await rejection(viaCallback<Stats>((cb) => archive.stat('/nope', cb)))
  assert.equal(missing.code, 'ENOENT')

  const draft = new Archive()
  await viaCallback<void>((cb) => draft.writeFile('/x.txt', 'x', cb))
  await viaCallback<void>((cb) => draft.mkdir('/d', cb))
  assert.deepEqual(await draft.readdir('/'), ['d', 'x.txt'])
  await viaCallback<void>((cb) => archive.close(cb))
  assert.equal((await rejection(viaCallback<Stats>((cb) => archive.stat('/', cb)))).code, 'ECLOSED')
})

test('paths fail like node:fs: ENOENT, ENOTDIR, EISDIR; writes to a looked-up archive fail with EROFS', async (t) => {
  const { archive } = await openSite(t)
  const cases: Array<[Promise<unknown>, string]> = [
    [archive.readFile('/nope'), 'ENOENT'],
    [archive.readFile('/docs'), 'EISDIR'],
    [archive.readFile('/docs/a.txt/x'), 'ENOTDIR'],
    [archive.readdir('/nope'), 'ENOENT'],
    [archive.readdir('/docs/a.txt'), 'ENOTDIR'],
    [archive.stat('/docs/nope/x'), 'ENOENT'],
    [archive.stat('/index.html/x'), 'ENOTDIR'],
    [archive.access('/nope'), 'ENOENT'],
    [archive.writeFile('/new.txt', 'x'), 'EROFS'],
    [archive.mkdir('/new'), 'EROFS']
  ]
  for (const [promise, code] of cases) {
    const err = await rejection(promise)
    assert.equal(err.code, code, err.message)
  }
  const err = await rejection(archive.readFile('/nope'))
  assert.equal(err.message, "ENOENT: no such file or directory, open '/nope'")

  for (const [file, code] of [['/nope', 'ENOENT'], ['/docs', 'EISDIR']] as const) {
    const stream = archive.createReadStream(file)
    const [streamErr] = await once<[Error & { code: string }]>(stream, 'error', 5000)
    assert.equal(streamErr.code, code)
  }
})

test('after close() every method fails with ECLOSED, and close() is idempotent', async (t) => {
  const { archive } = await openSite(t)
  await archive.close()
  await archive.close()
  for (const promise of [
    archive.readFile('/index.html'), archive.readdir('/'), archive.stat('/'), archive.exists('/'), archive.access('/')
  ]) {
    assert.equal((await rejection(promise)).code, 'ECLOSED')
  }
  const [err] = await once<[Error & { code: string }]>(archive.createReadStream('/index.html'), 'error', 5000)
  assert.equal(err.code, 'ECLOSED')
})

test('events: peer when a peer connects, progress per verified piece, done once complete', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 3 * 1024 * 1024)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { download: 'all', peers: [addressOf(seeder)], timeout: 10_000 })
  const progress: number[] = []
  archive.on('progress', (p) => progress.push(p))
  const peer = once<[string]>(archive, 'peer', 10_000)
  const done = once(archive, 'done', 30_000)
  // A third client dialling the reader: the reader's archive reports the newcomer.
  const third = await localClient(t)
  await third.lookup(magnet, { peers: [addressOf(reader)], timeout: 10_000 })
  assert.match((await peer)[0], /^127\.0\.0\.1:\d+$/)
  await done
  assert.equal(archive.progress, 1)
  assert.ok(progress.length > 1, `progress events: ${progress.length}`)
  assert.deepEqual(progress, [...progress].sort((a, b) => a - b))
  assert.equal(progress.at(-1), 1)
})

test('an archive that opens complete emits done soon after lookup', async (t) => {
  const dir = await tmpDir(t)
  await fs.writeFile(path.join(dir, 'one.txt'), 'one')
  const client = await localClient(t)
  const magnet = await client.seed(path.join(dir, 'one.txt'))
  const archive = await client.lookup(magnet)
  await once(archive, 'done', 5000)
  assert.equal(await archive.readFile('/one.txt', 'utf8'), 'one')
})

test("a storage failure reaches the archive's 'error' listeners and the read that waited on it", async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'data.bin'), 1024 * 1024)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(path.join(dir, 'data.bin'))
  class FullDisk extends RandomAccessMemory {
    override write (_offset: number, _data: Uint8Array, cb: (err: Error | null) => void): void {
      process.nextTick(cb, new Error('disk full'))
    }
  }
  const reader = await localClient(t, { storage: () => new FullDisk() })
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
  const reported = once<[Error]>(archive, 'error', 10_000)
  const read = rejection(archive.readFile('/data.bin'))
  assert.match((await reported)[0].message, /disk full/)
  assert.match((await read).message, /disk full|write/)
})
