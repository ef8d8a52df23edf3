import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { resumePath } from '../../lib/storage/resume-data.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const SIZE = 64 * 1024
const LOCAL = { dht: false, lsd: false, pex: false, host: '127.0.0.1' } as const

interface Setup { dir: string, src: string, out: string, stateDir: string, seeder: Torrent, magnet: string }

/** A folder torrent (a.bin, sub/b.bin, sub/deep/c.bin) seeded from `src`. */
async function seeded (t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'tree')
  for (const f of ['a.bin', 'sub/b.bin', 'sub/deep/c.bin']) await writeRandomFile(path.join(src, f), SIZE)
  const seeder = new Torrent(LOCAL)
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(src)
  return { dir, src, out: path.join(dir, 'out'), stateDir: path.join(dir, 'state'), seeder, magnet }
}

async function downloader (t: TestContext, s: Setup): Promise<Torrent> {
  const client = new Torrent({ ...LOCAL, storage: s.out, stateDir: s.stateDir })
  await client.start()
  t.after(() => client.stop())
  return client
}

async function complete (client: Torrent, s: Setup): Promise<void> {
  const archive = await client.lookup(s.magnet, { download: 'all', peers: [`127.0.0.1:${s.seeder.port}`], timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 10_000)
}

test('torrents() lists what is open; remove() closes every archive of it and keeps its files', async (t) => {
  const s = await seeded(t)
  const client = await downloader(t, s)
  assert.deepEqual(client.torrents(), [])
  await complete(client, s)
  const second = await client.lookup(s.magnet)
  const [info] = client.torrents()
  assert.equal(client.torrents().length, 1)
  assert.equal(info!.infoHash, second.infoHash)
  assert.equal(info!.name, 'tree')
  assert.equal(info!.length, 3 * SIZE)
  assert.equal(info!.progress, 1)
  assert.equal(info!.stats.downloaded, 3 * SIZE)
  assert.equal(info!.stats.peers.total, 1)

  assert.deepEqual(await client.remove(s.magnet), [])
  assert.deepEqual(client.torrents(), [])
  await assert.rejects(second.readFile('/a.bin'), { code: 'ECLOSED' })
  await fs.access(path.join(s.out, 'tree', 'sub', 'deep', 'c.bin'))
})

test('remove({ deleteData }) deletes the files it downloaded and its resume data, and nothing else', async (t) => {
  const s = await seeded(t)
  const client = await downloader(t, s)
  await complete(client, s)
  const infoHash = client.torrents()[0]!.infoHash
  // The user's own files: beside the download, and inside its folder.
  await fs.writeFile(path.join(s.out, 'mine.txt'), 'keep')
  await fs.writeFile(path.join(s.out, 'tree', 'sub', 'notes.txt'), 'keep')

  const deleted = await client.remove(s.magnet, { deleteData: true })
  const tree = path.join(s.out, 'tree')
  assert.deepEqual(deleted.sort(), [path.join(tree, 'a.bin'), path.join(tree, 'sub', 'b.bin'), path.join(tree, 'sub', 'deep'), path.join(tree, 'sub', 'deep', 'c.bin')].sort())
  assert.equal(await fs.readFile(path.join(s.out, 'mine.txt'), 'utf8'), 'keep')
  assert.equal(await fs.readFile(path.join(tree, 'sub', 'notes.txt'), 'utf8'), 'keep')
  await assert.rejects(fs.access(resumePath(s.stateDir, infoHash)), { code: 'ENOENT' })
  await assert.rejects(fs.access(path.join(s.out, '.trackerless', `${infoHash}.json`)), { code: 'ENOENT' })
  // The seeder's files are its user's: removing a seeded path never deletes them.
  assert.deepEqual(await s.seeder.remove(s.magnet, { deleteData: true }), [])
  await fs.access(path.join(s.src, 'sub', 'deep', 'c.bin'))
})

test('remove({ deleteData }) deletes nothing through a symbolic link planted in the download', async (t) => {
  const s = await seeded(t)
  const client = await downloader(t, s)
  await complete(client, s)
  // Between the download and the removal, sub/ becomes a link to a folder of the user's files
  // named like the torrent's.
  const victim = path.join(s.dir, 'victim')
  await fs.cp(path.join(s.out, 'tree', 'sub'), victim, { recursive: true })
  await fs.rm(path.join(s.out, 'tree', 'sub'), { recursive: true })
  await fs.symlink(victim, path.join(s.out, 'tree', 'sub'))
  const deleted = await client.remove(s.magnet, { deleteData: true })
  assert.deepEqual(deleted, [path.join(s.out, 'tree', 'a.bin')])
  await fs.access(path.join(victim, 'b.bin'))
  await fs.access(path.join(victim, 'deep', 'c.bin'))
})

test('remove({ deleteData }) of a torrent not open needs its file list', async (t) => {
  const s = await seeded(t)
  const client = await downloader(t, s)
  await assert.rejects(client.remove(s.magnet, { deleteData: true }), { code: 'ENOENT', message: /pass its \.torrent to remove\(\)/ })
  await assert.rejects(client.remove('magnet:?xs=urn:btpk:' + 'ab'.repeat(32)), { code: 'EINVALIDURL' })
})
