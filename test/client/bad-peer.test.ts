import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { tmpDir, writeRandomFile, once, until } from '../helpers/fixtures.js'

const MiB = 1024 * 1024

test('a peer that sends corrupt blocks is banned and the download completes from the honest one', async (t) => {
  const dir = await tmpDir(t)
  const good = path.join(dir, 'good', 'data.bin')
  const bad = path.join(dir, 'bad', 'data.bin')
  await writeRandomFile(good, 16 * MiB)
  await fs.mkdir(path.dirname(bad))
  await fs.copyFile(good, bad)

  const clients = [0, 1, 2].map(() => new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' }))
  t.after(() => Promise.all(clients.map((c) => c.stop())))
  await Promise.all(clients.map((c) => c.start()))
  const [honest, liar, leecher] = clients as [Torrent, Torrent, Torrent]
  const magnet = await honest.seed(good)
  assert.equal(await liar.seed(bad), magnet)
  // The liar hashed true data; now its disk holds garbage it will serve as if it were that data.
  const handle = await fs.open(bad, 'r+')
  await handle.write(Buffer.alloc(16 * MiB, 0x55), 0, 16 * MiB, 0)
  await handle.close()

  const liarAddress = `127.0.0.1:${liar.port}`
  const archive = await leecher.lookup(magnet, { download: 'all', peers: [liarAddress, `127.0.0.1:${honest.port}`] })
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(good)))

  await until(() => !archive.peers.includes(liarAddress), 5_000, 'the liar disconnected')
  const again = await leecher.lookup(magnet, { peers: [liarAddress] })
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.ok(!again.peers.includes(liarAddress), 'a banned peer was let back in')
})
