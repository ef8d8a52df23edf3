import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import type { TrackerlessError } from '../../lib/errors.js'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { MiB, RawPeer, scene } from './raw-peer.js'

interface Drop { address: string, code: string }

/** The seeder's record of every connection it closed to make room, or for a missed handshake. */
function dropLog (): { drops: Drop[], onDrop: (address: string, err: TrackerlessError) => void } {
  const drops: Drop[] = []
  return { drops, onDrop: (address, err) => drops.push({ address, code: err.code }) }
}

test('50 peers that only send keep-alives cannot hold a torrent full: an idle one is evicted for an honest downloader', async (t) => {
  const MAX_PEERS = 50
  const EVICT_AFTER = 200
  const { drops, onDrop } = dropLog()
  const s = await scene(t, 1 * MiB, { limits: { evictAfter: EVICT_AFTER, onDrop } })
  const seeding = await s.seeder.lookup(s.magnet)
  t.after(() => seeding.close())
  const squatters = await Promise.all(Array.from({ length: MAX_PEERS }, () => RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })))
  t.after(() => { for (const p of squatters) p.destroy() })
  await until(() => seeding.peers.length === MAX_PEERS, 10_000, 'the squatters filled the torrent')
  // Taken now: a closed socket no longer knows its port.
  const addresses = squatters.map((p) => `127.0.0.1:${p.socket.localPort}`)
  const keepAlive = setInterval(() => { for (const p of squatters) p.send({ type: 'keep-alive' }) }, EVICT_AFTER / 4)
  t.after(() => clearInterval(keepAlive))
  // Long enough for every squatter to have exchanged nothing useful for EVICT_AFTER ms.
  await new Promise((resolve) => setTimeout(resolve, 2 * EVICT_AFTER))

  const archive = await s.leecher.lookup(s.magnet, { peers: [s.seederAddress], timeout: 10_000 })
  t.after(() => archive.close())
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))

  assert.equal(drops.length, 1, `one squatter made room, not ${drops.length}`)
  assert.equal(drops[0]!.code, 'EBUSY')
  const evicted = squatters.filter((_p, i) => drops[0]!.address === addresses[i])
  assert.equal(evicted.length, 1, `the evicted address ${drops[0]!.address} is a squatter's`)
  await evicted[0]!.waitClosed(10_000)
  assert.equal(squatters.filter((p) => p.closed).length, 1)
})

test('a flood of connections that never handshake cannot lock honest peers out of the listener', async (t) => {
  const STALE = 140
  const HALF_OPEN = 32
  const HANDSHAKE_TIMEOUT = 3_000
  const { drops, onDrop } = dropLog()
  const s = await scene(t, 1 * MiB, { limits: { handshakeTimeout: HANDSHAKE_TIMEOUT, maxHalfOpen: HALF_OPEN, onDrop } })
  const stale = Array.from({ length: STALE }, () => net.connect({ host: '127.0.0.1', port: s.seeder.port }))
  t.after(() => { for (const socket of stale) socket.destroy() })
  let closed = 0
  for (const socket of stale) {
    socket.on('error', () => {})
    socket.once('close', () => closed++)
  }
  await Promise.all(stale.map((socket) => new Promise((resolve) => { if (socket.readyState === 'open') resolve(null); else socket.once('connect', resolve) })))
  // Taken now: a closed socket no longer knows its port.
  const ports = new Set(stale.map((socket) => `127.0.0.1:${socket.localPort}`))

  // Connected after every stale socket, so accepted after them: the newest half-open connection.
  const archive = await s.leecher.lookup(s.magnet, { peers: [s.seederAddress], timeout: 10_000 })
  t.after(() => archive.close())
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))

  await until(() => closed === STALE, 5 * HANDSHAKE_TIMEOUT, 'the listener closed every stale connection')
  assert.equal(drops.length, STALE, 'each stale connection was closed once, with its reason')
  const busy = drops.filter((d) => d.code === 'EBUSY').length
  const late = drops.filter((d) => d.code === 'ETIMEDOUT').length
  assert.equal(busy + late, STALE, `reasons: ${JSON.stringify([...new Set(drops.map((d) => d.code))])}`)
  // At most HALF_OPEN wait at once; the honest peer's arrival pushed out one more.
  assert.ok(busy >= STALE - HALF_OPEN, `only ${busy} closed by the cap`)
  assert.ok(drops.every((d) => ports.has(d.address)), 'only stale connections were dropped')
})

test('squatters holding every connection of the client, in another torrent, are evicted for a peer of this one', async (t) => {
  const MAX_CONNECTIONS = 10
  const EVICT_AFTER = 200
  const { drops, onDrop } = dropLog()
  const s = await scene(t, 1 * MiB, { limits: { maxConnections: MAX_CONNECTIONS, evictAfter: EVICT_AFTER, onDrop } })
  const dir = await tmpDir(t, 'tl-hostile-')
  const other = path.join(dir, 'other.bin')
  await writeRandomFile(other, 1 * MiB)
  const otherMeta = await buildMetainfo(await readTree(other), directoryStorage(dir))
  await s.seeder.seed(other)
  const squatters = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => RawPeer.dial(s.seeder.port, { infoHash: otherMeta.infoHash })))
  t.after(() => { for (const p of squatters) p.destroy() })
  const addresses = squatters.map((p) => `127.0.0.1:${p.socket.localPort}`)
  await new Promise((resolve) => setTimeout(resolve, 2 * EVICT_AFTER))

  const archive = await s.leecher.lookup(s.magnet, { peers: [s.seederAddress], timeout: 10_000 })
  t.after(() => archive.close())
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
  assert.deepEqual(drops.map((d) => d.code), ['EBUSY'])
  assert.ok(addresses.includes(drops[0]!.address), `the evicted address ${drops[0]!.address} is a squatter's`)
})
