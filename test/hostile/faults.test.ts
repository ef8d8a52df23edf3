import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

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

test('a read-only download folder gives EROFS to reads and to the error event', async (t) => {
  const disk = await mountTmpfs(t, 'ro,size=1m')
  if (disk === null) {
    t.skip('mounting a tmpfs is not permitted here (run as root with CAP_SYS_ADMIN to test a read-only folder)')
    return
  }
  const { magnet, address } = await seederOf(t, 1 * MiB)
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: disk })
  await leecher.start()
  t.after(() => leecher.stop())
  const archive = await leecher.lookup(magnet, { peers: [address] })
  const error = once<[Error & { code?: string }]>(archive, 'error', 60_000)
  await assert.rejects(archive.readFile('/data.bin'), (err: Error & { code?: string }) => err.code === 'EROFS' && /read-only/.test(err.message))
  assert.equal((await error)[0].code, 'EROFS')
})
