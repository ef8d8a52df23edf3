/**
 * Issue 20: a peer the user named is dialled again when it is not up yet or its connection ends,
 * so `lookup(url, { peers })` / `seed --peer` toward a client that starts later still connects.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { once, tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { MiB, RawPeer, freePort, rawServer, scene } from '../hostile/raw-peer.js'

const local = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }

test('a named peer that starts after the lookup is dialled again, and the download completes', async (t) => {
  const dir = await tmpDir(t, 'tl-named-')
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 2 * MiB)
  const meta = await buildMetainfo(await readTree(file), directoryStorage(dir))
  const port = await freePort()
  const leecher = new Torrent(local)
  const seeder = new Torrent({ ...local, torrentPort: port })
  t.after(() => Promise.all([leecher.stop(), seeder.stop()]))
  await leecher.start()
  const archive = await leecher.lookup(encodeTorrentFile(meta), { download: 'all', peers: [`127.0.0.1:${port}`] })
  // The first dial is refused: nothing listens on the port yet.
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  assert.equal(archive.progress, 0)
  await seeder.start()
  await seeder.seed(file)
  if (archive.progress < 1) await once(archive, 'done', 30_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(file)))
})

test('a connection to a named peer that ends is established again', async (t) => {
  const s = await scene(t, 1 * MiB)
  let connections = 0
  const server = await rawServer(t, (socket) => {
    connections++
    const peer = new RawPeer(socket, { infoHash: s.meta.infoHash })
    // The first connection ends right after the handshakes, as a restarting client's would.
    if (connections === 1) peer.next((f) => f.type === 'handshake', 10_000).then(() => socket.destroy(), () => {})
  })
  await s.leecher.lookup(encodeTorrentFile(s.meta), { peers: [server.address] })
  await until(() => connections >= 2, 15_000, 'the leecher dialled the named peer again after its connection ended')
  assert.equal(connections, 2)
})

test('a named peer refused for want of room is dialled as soon as a connection ends', async (t) => {
  // One connection for the whole client: the first named peer takes it, the seeder waits.
  const s = await scene(t, 1 * MiB, {}, { limits: { maxConnections: 1 } })
  let ended = false
  const first = await rawServer(t, (socket) => {
    const peer = new RawPeer(socket, { infoHash: s.meta.infoHash })
    // It shakes hands and leaves: its slot goes to the peer that waited for one.
    peer.next((f) => f.type === 'handshake', 10_000).then(() => { ended = true; socket.destroy() }, () => {})
  })
  const archive = await s.leecher.lookup(encodeTorrentFile(s.meta), { download: 'all', peers: [first.address, s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 30_000)
  assert.ok(ended, 'the first peer never had the slot')
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
})
