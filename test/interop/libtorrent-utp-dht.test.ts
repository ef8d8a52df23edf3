import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Torrent } from '../../index.js'
import type { UtpTransport } from '../../lib/transport/utp/transport.js'
import type { UtpConnection } from '../../lib/transport/utp/connection.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, downloaded, localClient, loopbackDht } from './fixtures.js'
import { libtorrentMissing, startLtPeer, startLtSeeder } from './lt-peer.js'

const skip = libtorrentMissing()
/** Every wait inside the libtorrent peer; ours are shorter, so that ours fail first and say why. */
const LT_LIMIT_S = 90
const UTP_ONLY = '--utp-only'

interface Downloaded { bytes: number, name: string, clients: Array<{ name: string, byPeerId: string }> }

function utpOf (c: Torrent): UtpTransport {
  return (c as unknown as { transports: { utp: UtpTransport } }).transports.utp
}

/** Our DHT and uTP are on one socket: the DHT's port is uTP's socket's, and the peer port. */
function assertOneUdpSocket (c: Torrent): void {
  assert.equal(c.dhtPort, c.port)
  assert.equal(utpOf(c).udpPort('udp4')?.address().port, c.dhtPort)
}

test('libtorrent with TCP off seeds and announces to a loopback DHT; we (DHT and uTP on one port) find it from the infohash alone and fetch over uTP', { skip }, async (t) => {
  const dht = await loopbackDht(t)
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 2 * 1024 * 1024 + 9)
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S, { create: ['--piece-length', String(256 * 1024), UTP_ONLY], seed: ['--dht', dht, UTP_ONLY] })
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out, [dht])
  assertOneUdpSocket(leecher)
  // No address but the infohash: libtorrent is found through the DHT, and reached over uTP
  // after our first (TCP) dial is refused.
  const archive = await leecher.lookup(created.infoHash, { download: 'all', timeout: STEP_MS })
  await downloaded(archive)
  assert.ok(archive.peers.includes(`127.0.0.1:${created.port}`), `found ${archive.peers.join(', ')}, not libtorrent on ${created.port}`)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(path.join(src, 'data.bin'))), 'data.bin differs')
})

test('we seed and announce to a loopback DHT (DHT and uTP on one port); libtorrent with TCP off finds us from the magnet link alone and fetches over uTP', { skip }, async (t) => {
  const dht = await loopbackDht(t)
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 2 * 1024 * 1024 + 9)
  const seeder = await localClient(t, undefined, [dht])
  assertOneUdpSocket(seeder)
  const socket = utpOf(seeder).socket('udp4')!
  const accepted: number[] = []
  const onConnection = socket.onConnection
  socket.onConnection = (conn: UtpConnection) => {
    accepted.push(conn.remotePort)
    onConnection?.(conn)
  }
  // A v1 torrent: given a hybrid's magnet, libtorrent 2.0.8 learns our address under both
  // infohashes from the DHT and, when the v2 answer lands while its v1 handshake is in flight,
  // drops our (correct) v1 answer as "invalid info-hash" and waits a minute to retry (README).
  // Hybrids found by the DHT are tested with btmh-only magnets (libtorrent-hybrid-v2hash).
  const magnet = await seeder.seed(file, { version: 1 })
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, '--dht', dht, UTP_ONLY], LT_LIMIT_S)
    .next<Downloaded>('finished download', STEP_MS)
  assert.ok(got.clients.some((c) => c.name.startsWith('trackerless ')), `libtorrent did not download from us: ${JSON.stringify(got.clients)}`)
  assert.ok(accepted.length > 0, 'no uTP connection arrived at the socket the DHT shares')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})
