import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import RandomAccessMemory from 'random-access-memory'
import { Archive, Torrent } from '../../index.js'
import { tmpDir, writeRandomFile, until } from '../helpers/fixtures.js'
import { localClient, addressOf, rejection } from './local.js'

async function draftWith (files: Record<string, string | Buffer>): Promise<Archive> {
  const draft = new Torrent.Archive()
  for (const [name, data] of Object.entries(files)) await draft.writeFile(name, data)
  return draft
}

test('seed(draft) in one client, lookup + readFile in another: byte-identical', async (t) => {
  const big = randomBytes(3 * 1024 * 1024 + 11)
  const draft = new Archive()
  await draft.writeFile('/index.html', '<h1>Hello World!</h1>')
  await draft.mkdir('/img')
  await draft.writeFile('/img/big.bin', big)
  await draft.writeFile('/docs/readme.txt', 'caf\u00e9', 'latin1')
  assert.deepEqual(await draft.readdir('/', { recursive: true }), ['docs', 'docs/readme.txt', 'img', 'img/big.bin', 'index.html'])
  assert.equal((await draft.readFile('/docs/readme.txt')).length, 4)
  assert.equal((await rejection(draft.writeFile('/img', 'x'))).code, 'EISDIR')
  assert.equal((await rejection(draft.writeFile('/index.html/x', 'x'))).code, 'ENOTDIR')
  assert.equal((await rejection(draft.mkdir('/index.html/sub'))).code, 'ENOTDIR')
  assert.equal((await rejection(draft.writeFile('/', 'x'))).code, 'EISDIR')

  const seeder = await localClient(t)
  const magnet = await seeder.seed(draft)
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
  assert.equal(archive.infoHash, draft.infoHash)
  assert.equal(await archive.readFile('/index.html', 'utf8'), '<h1>Hello World!</h1>')
  assert.ok((await archive.readFile('/img/big.bin')).equals(big))
  assert.ok((await archive.readFile('/docs/readme.txt')).equals(Buffer.from('caf\u00e9', 'latin1')))
})

test('a seeded draft is sealed: it has an infoHash and url, reads from its swarm, refuses writes', async (t) => {
  const draft = await draftWith({ '/a.txt': 'a', '/b/c.txt': 'c' })
  await draft.mkdir('/empty')
  assert.equal(draft.infoHash, '')
  assert.equal(draft.url, '')
  const client = await localClient(t)
  const magnet = await client.seed(draft)
  assert.match(draft.infoHash, /^[0-9a-f]{40}$/)
  assert.equal(draft.url, magnet)
  assert.equal(draft.name, 'archive')
  assert.equal(draft.progress, 1)
  assert.equal(await draft.readFile('/b/c.txt', 'utf8'), 'c')
  // A torrent holds files only: the empty folder is not part of what was published.
  assert.deepEqual(await draft.readdir('/'), ['a.txt', 'b'])
  assert.equal((await rejection(draft.writeFile('/d.txt', 'd'))).code, 'EROFS')
  assert.equal((await rejection(draft.mkdir('/e'))).code, 'EROFS')
})

test('the same content gives the same infohash every time: drafts in any order, folders, files', async (t) => {
  const one = await localClient(t)
  const two = await localClient(t)
  const x = randomBytes(100_000)
  const first = await one.seed(await draftWith({ '/x.bin': x, '/y/z.txt': 'z' }))
  const second = await two.seed(await draftWith({ '/y/z.txt': 'z', 'x.bin': x }))
  assert.equal(first, second)
  assert.notEqual(first, await two.seed(await draftWith({ '/x.bin': x, '/y/z.txt': 'Z' })))

  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'site/a.bin'), 1_000_000)
  await fs.writeFile(path.join(dir, 'site/b.txt'), 'b')
  assert.equal(await one.seed(path.join(dir, 'site')), await two.seed(path.join(dir, 'site')))
  assert.equal(await one.seed(path.join(dir, 'site/a.bin')), await two.seed(path.join(dir, 'site/a.bin')))
})

test('close() of a seeded draft stops seeding it', async (t) => {
  const draft = await draftWith({ '/a.txt': 'a'.repeat(50_000) })
  const seeder = await localClient(t)
  const magnet = await seeder.seed(draft)
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
  assert.equal((await archive.readFile('/a.txt')).length, 50_000)
  await until(() => draft.peers.length === 1, 5000, 'the seeder sees the reader')

  await draft.close()
  assert.equal((await rejection(draft.readFile('/a.txt'))).code, 'ECLOSED')
  await until(() => archive.peers.length === 0, 5000, 'the seeder hung up')
  // The seeder no longer answers for this torrent: a newcomer finds no metadata.
  const late = await localClient(t)
  const err = await rejection(late.lookup(magnet, { peers: [addressOf(seeder)], timeout: 500 }))
  assert.equal(err.code, 'ETIMEDOUT')
})

test('seed() of read-only files and folders works', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'ro')
  await writeRandomFile(path.join(src, 'data.bin'), 500_000)
  await fs.writeFile(path.join(src, 'empty.txt'), '')
  const undo = await makeReadOnly([path.join(src, 'data.bin'), path.join(src, 'empty.txt')], src)
  try {
    const seeder = await localClient(t)
    const magnet = await seeder.seed(src)
    const reader = await localClient(t)
    const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
    assert.ok((await archive.readFile('/data.bin')).equals(await fs.readFile(path.join(src, 'data.bin'))))
    assert.equal((await archive.stat('/empty.txt')).size, 0)
  } finally {
    await undo()
  }
})

/** chmod 0444 (folder 0555); as root, whom modes do not stop, also the immutable attribute when
 *  the filesystem allows it, so that an open for writing really fails. Returns the undo. */
async function makeReadOnly (files: string[], folder: string): Promise<() => Promise<void>> {
  for (const file of files) await fs.chmod(file, 0o444)
  await fs.chmod(folder, 0o555)
  const immutable = process.getuid?.() === 0 && spawnSync('chattr', ['+i', ...files]).status === 0
  if (immutable) {
    await assert.rejects(fs.open(files[0]!, 'r+'), { code: 'EPERM' })
  }
  return async () => {
    if (immutable) spawnSync('chattr', ['-i', ...files])
    await fs.chmod(folder, 0o755)
  }
}

test('seed() rejects an empty draft (ENOENT), a missing path (ENOENT) and a looked-up archive (EROFS)', async (t) => {
  const client = await localClient(t)
  assert.equal((await rejection(client.seed(new Archive()))).code, 'ENOENT')
  assert.equal((await rejection(client.seed('/nonexistent/trackerless/path'))).code, 'ENOENT')
  const magnet = await client.seed(await draftWith({ '/a': 'a' }))
  const archive = await client.lookup(magnet)
  assert.equal((await rejection(client.seed(archive))).code, 'EROFS')
})

test('the storage option: a directory path, or a factory of random-access-storage', async (t) => {
  const dir = await tmpDir(t)
  const data = randomBytes(600_000)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(await draftWith({ '/d/data.bin': data }))

  const intoFolder = await localClient(t, { storage: path.join(dir, 'store') })
  const stored = await intoFolder.lookup(magnet, { peers: [addressOf(seeder)], download: 'all', timeout: 10_000 })
  assert.ok((await stored.readFile('/d/data.bin')).equals(data))
  await until(() => stored.progress === 1, 10_000, 'the download completes')
  assert.ok((await fs.readFile(path.join(dir, 'store/archive/d/data.bin'))).equals(data))

  const opened: string[] = []
  const viaFactory = await localClient(t, {
    storage: (file) => {
      opened.push(file)
      return new RandomAccessMemory()
    }
  })
  const inMemory = await viaFactory.lookup(magnet, { peers: [addressOf(seeder)], timeout: 10_000 })
  assert.ok((await inMemory.readFile('/d/data.bin')).equals(data))
  assert.deepEqual(opened, ['archive/d/data.bin'])
})
