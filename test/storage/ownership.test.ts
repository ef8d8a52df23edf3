import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import fc from 'fast-check'
import { Torrent } from '../../index.js'
import { directoryStorage, joinInside } from '../../lib/storage/factories.js'
import { claimEntry, diskName, RECORDS, type OwnedTorrent } from '../../lib/storage/ownership.js'
import type { RandomAccessStorage } from '../../lib/storage/types.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const RUNS = { numRuns: 500, interruptAfterTimeLimit: 30_000 }
const HASH_A = 'a'.repeat(40)
const HASH_B = 'b'.repeat(40)

function site (infoHash: string, name = 'site'): OwnedTorrent {
  return { infoHash, name, multiFile: true, files: [{ path: 'a.bin', length: 4 }, { path: 'sub/b.bin', length: 2 }] }
}

function run<T> (fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => { if (err) reject(err); else resolve(value) }))
}

function code (expected: string, named?: string): (err: Error & { code?: string }) => boolean {
  return (err) => {
    assert.equal(err.code, expected, err.message)
    if (named !== undefined) assert.ok(err.message.includes(`"${named}"`), err.message)
    return true
  }
}

test('diskName: never a hidden entry, the same name otherwise, and still a path inside the root', () => {
  const root = path.resolve('/srv/out')
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/') && !s.includes('\\') && !s.includes('\0') && s !== '.' && s !== '..'), (name) => {
    const disk = diskName(name)
    assert.ok(!disk.startsWith('.'))
    assert.equal(disk.length, name.length)
    if (!name.startsWith('.')) assert.equal(disk, name)
    assert.equal(path.dirname(joinInside(root, disk)), root)
  }), RUNS)
  assert.equal(diskName('.git'), '_git')
  assert.equal(diskName('..foo'), '_.foo')
})

test('claimEntry: records before it creates, resumes its own, refuses what it did not make, adopts with overwrite', async (t) => {
  const root = await tmpDir(t)
  assert.equal(await claimEntry(root, site(HASH_A)), 'site')
  assert.deepEqual(JSON.parse(await fs.readFile(path.join(root, RECORDS, `${HASH_A}.json`), 'utf8')), { name: 'site' })
  assert.ok((await fs.lstat(path.join(root, 'site'))).isDirectory())
  assert.equal(await claimEntry(root, site(HASH_A)), 'site', 'its own entry again: resume')
  assert.deepEqual((await fs.readdir(path.join(root, RECORDS))).sort(), [`${HASH_A}.json`], 'no temporary file is left')

  // A kill between the record and the entry: the record alone resumes.
  await fs.rm(path.join(root, 'site'), { recursive: true })
  assert.equal(await claimEntry(root, site(HASH_A)), 'site')
  assert.ok((await fs.lstat(path.join(root, 'site'))).isDirectory())

  // Another torrent of this root made it (a mutable archive's next version): taken over, tails cut.
  await fs.mkdir(path.join(root, 'site', 'sub'))
  await fs.writeFile(path.join(root, 'site', 'a.bin'), 'abcdefgh')
  assert.equal(await claimEntry(root, site(HASH_B)), 'site')
  assert.equal(await fs.readFile(path.join(root, 'site', 'a.bin'), 'utf8'), 'abcd')

  const user = path.join(root, 'mine')
  await fs.mkdir(path.join(user, 'sub'), { recursive: true })
  await fs.writeFile(path.join(user, 'a.bin'), 'the user\'s')
  await assert.rejects(claimEntry(root, site(HASH_A, 'mine')), code('EEXIST', user))
  assert.equal(await fs.readFile(path.join(user, 'a.bin'), 'utf8'), 'the user\'s')
  await assert.rejects(fs.access(path.join(root, RECORDS, `${HASH_A}.json.tmp`)))
  assert.equal(await claimEntry(root, site(HASH_A, 'mine'), { overwrite: true }), 'mine')
  assert.equal(await fs.readFile(path.join(user, 'a.bin'), 'utf8'), 'the ', 'cut to the torrent\'s length')

  // An unreadable record is not ownership.
  await fs.writeFile(path.join(root, RECORDS, `${HASH_B}.json`), '{"name":')
  await fs.mkdir(path.join(root, 'other'))
  await assert.rejects(claimEntry(root, site(HASH_B, 'other')), code('EEXIST', path.join(root, 'other')))

  // Single-file torrents: the file itself is the entry, created exclusively.
  const single: OwnedTorrent = { infoHash: 'c'.repeat(40), name: '.bashrc', multiFile: false, files: [{ path: '.bashrc', length: 3 }] }
  assert.equal(await claimEntry(root, single), '_bashrc')
  assert.equal((await fs.stat(path.join(root, '_bashrc'))).size, 0)
})

test('claimEntry: links at the entry or at the records folder are refused with ELOOP, even with overwrite', async (t) => {
  const root = await tmpDir(t)
  const outside = await tmpDir(t)
  await fs.writeFile(path.join(outside, 'x'), 'precious')
  await fs.symlink(outside, path.join(root, 'site'))
  await assert.rejects(claimEntry(root, site(HASH_A), { overwrite: true }), code('ELOOP', path.join(root, 'site')))
  await fs.symlink(path.join(outside, 'x'), path.join(root, 'file.bin'))
  const file: OwnedTorrent = { infoHash: HASH_A, name: 'file.bin', multiFile: false, files: [{ path: 'file.bin', length: 1 }] }
  await assert.rejects(claimEntry(root, file, { overwrite: true }), code('ELOOP', path.join(root, 'file.bin')))
  assert.equal(await fs.readFile(path.join(outside, 'x'), 'utf8'), 'precious')
  assert.deepEqual(await fs.readdir(outside), ['x'])

  const other = await tmpDir(t)
  await fs.symlink(outside, path.join(other, RECORDS))
  await assert.rejects(claimEntry(other, site(HASH_A)), code('ELOOP', path.join(other, RECORDS)))
  assert.deepEqual(await fs.readdir(outside), ['x'])
})

test('directoryStorage never opens through a link below its root, but the root itself may be one', async (t) => {
  const dir = await tmpDir(t)
  const outside = path.join(dir, 'outside')
  await fs.mkdir(outside)
  const real = path.join(dir, 'real')
  await fs.mkdir(path.join(real, 'site'), { recursive: true })
  await fs.symlink(outside, path.join(real, 'site', 'sub'))
  await fs.symlink(path.join(outside, 'f'), path.join(real, 'site', 'f'))
  const linkedRoot = path.join(dir, 'linked')
  await fs.symlink(real, linkedRoot)
  const files = directoryStorage(linkedRoot)

  const throughFolder: RandomAccessStorage = files('site/sub/x.bin')
  await assert.rejects(run<void>((cb) => throughFolder.write(0, Buffer.from('no'), cb)), code('ELOOP', path.join(linkedRoot, 'site', 'sub')))
  const throughFile: RandomAccessStorage = files('site/f')
  await assert.rejects(run<void>((cb) => throughFile.write(0, Buffer.from('no'), cb)), code('ELOOP', path.join(linkedRoot, 'site', 'f')))
  assert.deepEqual(await fs.readdir(outside), [])

  const fine: RandomAccessStorage = files('site/new/y.bin')
  await run<void>((cb) => fine.write(1, Buffer.from('ok'), cb))
  await run<void>((cb) => fine.close(cb))
  assert.equal(await fs.readFile(path.join(real, 'site', 'new', 'y.bin'), 'utf8'), '\0ok')
})

test('overwrite: an existing file with stale bytes and an old tail is verified, repaired and cut to length', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src', 'data.bin')
  await writeRandomFile(src, 3 * 1024 * 1024 + 5)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = `${await seeder.seed(src)}&x.pe=127.0.0.1:${seeder.port}`
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  const stale = Buffer.concat([await fs.readFile(src), Buffer.alloc(1024 * 1024, 'old tail')])
  stale.fill(0, 100, 200)
  await fs.writeFile(path.join(out, 'data.bin'), stale)

  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: directoryStorage(out, { overwrite: true }) })
  await leecher.start()
  t.after(() => leecher.stop())
  const archive = await leecher.lookup(magnet, { download: 'all', timeout: 10_000 })
  t.after(() => archive.close())
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(src)))
  assert.ok(archive.downloaded < 3 * 1024 * 1024, `only the stale piece is fetched again, not ${archive.downloaded} bytes`)
})
