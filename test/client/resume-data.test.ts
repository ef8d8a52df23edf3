import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent, directoryStorage, type StorageFactory } from '../../index.js'
import type { TorrentStorageFactory } from '../../lib/storage/types.js'
import { resumePath } from '../../lib/storage/resume-data.js'
import { RESUME_WARNING } from '../../lib/client/resume.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const PIECE = 16 * 1024
/** Two files of 10 pieces each (the smallest chosen piece length): no piece spans both. */
const FILE = 10 * PIECE

/** directoryStorage(dir) that records the path of every read (only a scan reads on a client nobody asks). */
function countingStorage (dir: string, reads: string[]): StorageFactory {
  const inner = directoryStorage(dir) as TorrentStorageFactory
  const wrap = (factory: StorageFactory): StorageFactory => (file, opts) => {
    const storage = factory(file, opts)
    const read = storage.read.bind(storage)
    storage.read = (offset, length, cb) => { reads.push(file); read(offset, length, cb) }
    return storage
  }
  const outer = wrap(inner) as TorrentStorageFactory
  outer.forTorrent = async (torrent) => wrap(await inner.forTorrent!(torrent))
  return outer
}

interface Setup { torrentFile: Buffer, out: string, stateDir: string, infoHash: string }

/** A completed download of a 20-piece, two-file torrent into `out`, with resume data in `stateDir`. */
async function downloaded (t: TestContext): Promise<Setup> {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'src', 'a.bin'), FILE)
  await writeRandomFile(path.join(dir, 'src', 'b.bin'), FILE)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(path.join(dir, 'src'))
  const out = path.join(dir, 'out')
  const stateDir = path.join(dir, 'state')
  const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: out, stateDir })
  await client.start()
  const archive = await client.lookup(magnet, { download: 'all', peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 10_000)
  await archive.close()
  await client.stop()
  return { torrentFile: seeder.torrentFile(magnet)!, out, stateDir, infoHash: archive.infoHash }
}

/** Opens the torrent again with no peer at all: whatever it has comes from the folder. */
async function reopen (t: TestContext, s: Setup, reads: string[]): Promise<number> {
  const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: countingStorage(s.out, reads), stateDir: s.stateDir })
  await client.start()
  t.after(() => client.stop())
  const archive = await client.lookup(s.torrentFile, { timeout: 5_000 })
  const progress = archive.progress
  await archive.close()
  await client.stop()
  return progress
}

test('a second start of a completed download reads no piece; a file changed since is checked again, alone', async (t) => {
  const s = await downloaded(t)
  await fs.access(resumePath(s.stateDir, s.infoHash))

  const reads: string[] = []
  assert.equal(await reopen(t, s, reads), 1)
  assert.deepEqual(reads, [], 'the second start read pieces it had saved as verified')

  // One byte of b.bin changes (and with it its mtime): its pieces are hashed, a.bin's are not,
  // and the piece holding that byte is found bad.
  const b = path.join(s.out, 'src', 'b.bin')
  const handle = await fs.open(b, 'r+')
  const [byte] = (await handle.read(Buffer.alloc(1), 0, 1, 3 * PIECE)).buffer
  await handle.write(Buffer.from([byte! ^ 0xff]), 0, 1, 3 * PIECE)
  await handle.close()
  const again: string[] = []
  assert.equal(await reopen(t, s, again), 19 / 20)
  assert.ok(again.length > 0, 'the changed file was not read')
  assert.deepEqual([...new Set(again)], ['src/b.bin'], 'an unchanged file was read again')

  // That start saved what it found: the next one trusts it (19 pieces) and reads nothing.
  const third: string[] = []
  assert.equal(await reopen(t, s, third), 19 / 20)
  assert.deepEqual(third, [])
})

test('a corrupt resume file is reported with its reason and never trusted', async (t) => {
  const s = await downloaded(t)
  const file = resumePath(s.stateDir, s.infoHash)
  const saved = JSON.parse(await fs.readFile(file, 'utf8')) as { files: Array<[number, number]> }
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { if ((w as { code?: string }).code === RESUME_WARNING) warnings.push(w) }
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))

  // Not JSON at all.
  await fs.writeFile(file, '{"v":1,"have":')
  const reads: string[] = []
  assert.equal(await reopen(t, s, reads), 1)
  assert.ok(reads.length > 0, 'the pieces were not checked')
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(warnings.length, 1)
  assert.match(warnings[0]!.message, /not used, because it is not valid JSON; every piece is checked/)

  // Well-formed but for another shape of torrent: a piece count that does not match.
  await fs.writeFile(file, JSON.stringify({ ...saved, pieces: 21 }))
  const again: string[] = []
  assert.equal(await reopen(t, s, again), 1)
  assert.ok(again.length > 0, 'the pieces were not checked')
  await new Promise((resolve) => setImmediate(resolve))
  assert.match(warnings[1]?.message ?? '', /it has 21 pieces, the torrent 20/)
})

test('a resume file that is a symbolic link is not followed', async (t) => {
  const s = await downloaded(t)
  const file = resumePath(s.stateDir, s.infoHash)
  const elsewhere = path.join(s.stateDir, 'elsewhere.json')
  await fs.rename(file, elsewhere)
  await fs.symlink(elsewhere, file)
  const warnings: Error[] = []
  const onWarning = (w: Error): void => { if ((w as { code?: string }).code === RESUME_WARNING) warnings.push(w) }
  process.on('warning', onWarning)
  t.after(() => process.off('warning', onWarning))
  const reads: string[] = []
  assert.equal(await reopen(t, s, reads), 1)
  assert.ok(reads.length > 0, 'a linked resume file was trusted')
  await new Promise((resolve) => setImmediate(resolve))
  assert.match(warnings[0]?.message ?? '', /cannot be opened \(ELOOP\)/)
})
