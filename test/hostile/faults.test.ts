import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import type { Frame } from '../../lib/wire/codec.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { RawPeer } from './raw-peer.js'

const MiB = 1024 * 1024

/** A tmpfs of `options` mounted on a fresh folder, unmounted and removed after the test; null
 *  when this process may not mount (not root, or no CAP_SYS_ADMIN in a container). */
async function mountTmpfs (t: TestContext, options: string): Promise<string | null> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-mount-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' })
  } catch {
    await fs.rmdir(dir)
    return null
  }
  t.after(async () => {
    // Lazy: clients stopped by later hooks may still hold a file open.
    execFileSync('umount', ['-l', dir])
    await fs.rmdir(dir)
  })
  return dir
}

async function seederOf (t: TestContext, size: number): Promise<{ magnet: string, address: string, file: string }> {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, size)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  return { magnet: await seeder.seed(file), address: `127.0.0.1:${seeder.port}`, file }
}

test('a full disk gives ENOSPC to the user, and the pieces verified before it stay on disk', async (t) => {
  const disk = await mountTmpfs(t, 'size=4m')
  if (disk === null) {
    t.skip('mounting a tmpfs is not permitted here (run as root with CAP_SYS_ADMIN to test a full disk)')
    return
  }
  const { magnet, address } = await seederOf(t, 16 * MiB)
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: disk })
  await leecher.start()
  const archive = await leecher.lookup(magnet, { download: 'all', peers: [address] })
  const stored = new Set<number>()
  archive.on('progress', (_p, piece) => stored.add(piece))
  const [error] = await once<[Error & { code?: string }]>(archive, 'error', 60_000)
  assert.equal(error.code, 'ENOSPC')
  assert.match(error.message, /Free some disk space/)
  await assert.rejects(archive.readFile('/data.bin'), (err: Error & { code?: string }) => err.code === 'ENOSPC')
  await leecher.stop()

  // A new client on the same folder finds every piece that was reported stored.
  const again = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: disk })
  await again.start()
  t.after(() => again.stop())
  const reopened = await again.lookup(magnet, { peers: [address] })
  const pieces = Math.round(stored.size / reopened.progress)
  assert.ok(stored.size > 0, 'no piece was stored before the disk filled up')
  assert.ok(Math.round(reopened.progress * pieces) >= stored.size, `${stored.size} pieces were stored, the scan found ${reopened.progress}`)
})

test('after a failed write the download stops: one error, nothing more fetched, reads fail, uploads go on; reopened after space is freed it resumes', async (t) => {
  const disk = await mountTmpfs(t, 'size=4m')
  if (disk === null) {
    t.skip('mounting a tmpfs is not permitted here (run as root with CAP_SYS_ADMIN to test a full disk)')
    return
  }
  const { magnet, address, file } = await seederOf(t, 16 * MiB)
  const meta = await buildMetainfo(await readTree(file), directoryStorage(path.dirname(file)))
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: disk })
  await leecher.start()
  t.after(() => leecher.stop())
  const archive = await leecher.lookup(magnet, { download: 'all', peers: [address] })
  const stored = new Set<number>()
  const errors: Array<Error & { code?: string }> = []
  archive.on('progress', (_p, piece) => stored.add(piece))
  archive.on('error', (err) => errors.push(err))
  const pending = archive.readFile('/data.bin')
  const [error] = await once<[Error & { code?: string }]>(archive, 'error', 60_000)
  const downloaded = archive.downloaded
  assert.equal(error.code, 'ENOSPC')
  await assert.rejects(pending, (err: Error & { code?: string }) => err === error)
  await assert.rejects(archive.readFile('/data.bin'), (err: Error & { code?: string }) => err.code === 'ENOSPC')
  assert.ok(stored.size > 0, 'no piece was stored before the disk filled up')

  // A peer that has every piece and asks for one we stored: it is served, and never asked for anything.
  const peer = await RawPeer.dial(leecher.port, { infoHash: meta.infoHash })
  t.after(() => peer.destroy())
  const fromLeecher: Frame[] = []
  peer.onFrame((frame) => fromLeecher.push(frame))
  peer.send({ type: 'have-all' })
  peer.send({ type: 'unchoke' })
  const unchoked = peer.next((f) => f.type === 'unchoke', 10_000)
  peer.send({ type: 'interested' })
  await unchoked
  const [index] = stored
  const served = peer.next((f) => f.type === 'piece', 10_000)
  peer.send({ type: 'request', index: index!, begin: 0, length: 16384 })
  const block = await served
  assert.ok(block.type === 'piece' && block.block.equals((await fs.readFile(file)).subarray(index! * meta.pieceLength, index! * meta.pieceLength + 16384)))
  // Long enough for the seeder's in-flight blocks to land and for a download that went on to fail again.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('; '))
  assert.equal(archive.downloaded, downloaded, 'bytes were fetched after the write failed')
  assert.ok(!fromLeecher.some((f) => f.type === 'interested' || f.type === 'request'), 'the leecher asked a seed for data after the write failed')

  // What a user does: free space, close every archive of the torrent, look it up again.
  execFileSync('mount', ['-o', 'remount,size=32m', disk])
  await archive.close()
  const resumed = await leecher.lookup(magnet, { download: 'all', peers: [address] })
  if (resumed.progress < 1) await once(resumed, 'done', 60_000)
  assert.ok((await resumed.readFile('/data.bin') as Buffer).equals(await fs.readFile(file)))
  let storedBytes = 0
  for (const i of stored) storedBytes += Math.min(meta.pieceLength, meta.length - i * meta.pieceLength)
  assert.ok(resumed.downloaded <= meta.length - storedBytes, `${resumed.downloaded} bytes fetched again, ${storedBytes} of ${meta.length} were stored`)
})

test('a read-only download folder refuses the lookup with EROFS: the download cannot take its place there', async (t) => {
  const disk = await mountTmpfs(t, 'ro,size=1m')
  if (disk === null) {
    t.skip('mounting a tmpfs is not permitted here (run as root with CAP_SYS_ADMIN to test a read-only folder)')
    return
  }
  const { magnet, address } = await seederOf(t, 1 * MiB)
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: disk })
  await leecher.start()
  t.after(() => leecher.stop())
  await assert.rejects(leecher.lookup(magnet, { peers: [address] }), (err: Error & { code?: string }) => err.code === 'EROFS' && /read-only/.test(err.message))
})
