import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import net from 'node:net'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { encodeMessage } from '../../lib/wire/codec.js'
import { asPeerId } from '../../lib/util/ids.js'
import { once, until } from '../helpers/fixtures.js'
import { MiB, RawPeer, scene } from './raw-peer.js'

test('a frame length of 2^31 drops the peer without allocating it; the download goes on', async (t) => {
  const s = await scene(t)
  const torrent = encodeTorrentFile(s.meta)
  const archive = await s.leecher.lookup(torrent, { download: 'all' })
  const before = process.memoryUsage().arrayBuffers
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  liar.sendRaw(Buffer.from([0x80, 0, 0, 0, 7, 0, 0, 0, 0]))
  await liar.waitClosed()
  const grown = process.memoryUsage().arrayBuffers - before
  assert.ok(grown < 64 * MiB, `array buffers grew by ${grown} bytes`)

  await s.leecher.lookup(torrent, { peers: [s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
})

test('requests outside the torrent are answered by a disconnect', async (t) => {
  const s = await scene(t)
  const last = s.meta.pieceCount - 1
  const lastSize = s.meta.length - last * s.meta.pieceLength
  const bad = [
    { index: s.meta.pieceCount, begin: 0, length: 16384 },
    { index: last, begin: lastSize - 8, length: 16 },
    { index: 0, begin: 0, length: 0 },
    { index: 0, begin: 0, length: 1024 * 1024 }
  ]
  for (const req of bad) {
    const peer = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })
    peer.send({ type: 'interested' })
    peer.send({ type: 'request', ...req })
    await peer.waitClosed()
  }
  // An ordinary request of the same peer kind is served.
  const good = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })
  t.after(() => good.destroy())
  const unchoked = good.next((f) => f.type === 'unchoke')
  good.send({ type: 'interested' })
  await unchoked
  const piece = good.next((f) => f.type === 'piece')
  good.send({ type: 'request', index: last, begin: 0, length: Math.min(16384, lastSize) })
  await piece
})

test('more requests than the reqq we announced drop the peer', async (t) => {
  const s = await scene(t)
  const peer = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })
  await until(() => peer.extensions !== null, 10_000, "the seeder's extended handshake")
  const reqq = peer.extensions!.reqq!
  const unchoked = peer.next((f) => f.type === 'unchoke')
  peer.send({ type: 'interested' })
  await unchoked
  peer.socket.pause()
  const requests = Array.from({ length: reqq + 100 }, (_, i) => encodeMessage({ type: 'request', index: i % s.meta.pieceCount, begin: 0, length: 16384 }))
  peer.sendRaw(Buffer.concat(requests))
  await peer.waitClosed()
})

test('a connection flood is cut at the pending and peer limits, and the download still finishes', async (t) => {
  const s = await scene(t, 8 * MiB)
  const torrent = encodeTorrentFile(s.meta)
  const archive = await s.leecher.lookup(torrent, { download: 'all', peers: [s.seederAddress] })

  // Sockets that never say anything: beyond the pending limit they are closed at once.
  const FLOOD = 400
  let silentClosed = 0
  const silent = Array.from({ length: FLOOD }, () => {
    const socket = net.connect({ host: '127.0.0.1', port: s.leecher.port })
    socket.on('error', () => {})
    socket.once('close', () => { silentClosed++ })
    socket.resume()
    return socket
  })
  t.after(() => { for (const socket of silent) socket.destroy() })
  await until(() => silentClosed >= FLOOD - 128, 8_000, `${FLOOD - 128} of the silent sockets closed before their handshake timeout`)
  for (const socket of silent) socket.destroy()

  // Handshakes with fresh peer ids: beyond the peer limit they are closed.
  const HANDSHAKES = 80
  const floods = Array.from({ length: HANDSHAKES }, () => RawPeer.connect(s.leecher.port, { infoHash: s.meta.infoHash }))
  t.after(() => { for (const peer of floods) peer.destroy() })
  await until(() => floods.every((p) => p.closed || p.extensions !== null), 20_000, 'every flooding peer attached or closed')
  const attached = floods.filter((p) => !p.closed).length
  assert.ok(attached <= 50, `${attached} flooding peers were attached`)
  assert.ok(attached > 0, 'no flooding peer was attached: the test did not reach the limit it checks')
  for (const peer of floods) peer.destroy()

  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
})

test('a peer claiming our own peer id is dropped', async (t) => {
  const s = await scene(t)
  const archive = await s.leecher.lookup(encodeTorrentFile(s.meta), { download: 'all' })
  const impostor = RawPeer.connect(s.leecher.port, { infoHash: s.meta.infoHash, peerId: asPeerId(s.leecher.peerId) })
  await impostor.waitClosed()
  assert.equal(impostor.extensions, null)
  assert.deepEqual(archive.peers, [])
})
