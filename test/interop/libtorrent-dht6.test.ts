import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import DHT from 'bittorrent-dht'
import { Torrent, Archive, createKeypair } from '../../index.js'
import { verify, loadEd25519 } from '../../lib/mutable/keys.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, downloaded } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
/** Every wait inside the libtorrent peer; ours are shorter, so that ours fail first and say why. */
const LT_LIMIT_S = 90
/** libtorrent listens, and so runs its DHT node, on ::1 alone: no IPv4 at all. */
const LT_IPV6_ONLY = { LT_PEER_LISTEN: '[::1]:0' }

/**
 * `size` nodes of our IPv6 DHT (the vendored bittorrent-dht) on ::1, the first the bootstrap of
 * the others and of both sides: "[::1]:port".
 */
async function ipv6Dht (t: TestContext, size = 1): Promise<string> {
  await loadEd25519()
  const nodes: DHT[] = []
  t.after(() => Promise.all(nodes.map((dht) => new Promise<void>((resolve) => dht.destroy(() => resolve())))))
  const listening = async (dht: DHT): Promise<DHT> => {
    nodes.push(dht)
    await new Promise<void>((resolve) => dht.listen(0, '::1', () => resolve()))
    return dht
  }
  const first = await listening(new DHT({ bootstrap: false, family: 6, verify }))
  const bootstrap = `[::1]:${first.address().port}`
  const rest = await Promise.all(Array.from({ length: size - 1 }, () => listening(new DHT({ bootstrap: [bootstrap], family: 6, verify }))))
  await Promise.all(rest.map((dht) => dht.ready === true ? undefined : new Promise<void>((resolve) => dht.once('ready', () => resolve()))))
  return bootstrap
}

/** Our client on ::1 alone: its only DHT node is the IPv6 one. */
async function ipv6Client (t: TestContext, dht: string, storage?: string): Promise<Torrent> {
  const c = new Torrent({ dht: [dht], lsd: false, pex: false, host: '::1', ...(storage !== undefined ? { storage } : {}) })
  await c.start()
  t.after(() => c.stop())
  return c
}

test('libtorrent on IPv6 alone seeds and announces to the IPv6 DHT; we find it from the infohash alone and download', { skip }, async (t) => {
  const dht = await ipv6Dht(t)
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeRandomFile(path.join(src, 'data.bin'), 1024 * 1024 + 9)
  const torrentFile = path.join(dir, 'data.torrent')
  const created = await startLtPeer(t, ['create', path.join(src, 'data.bin'), torrentFile, '--piece-length', String(256 * 1024)], LT_LIMIT_S)
    .next<{ infoHash: string }>('torrent', STEP_MS)
  const { port } = await startLtPeer(t, ['seed', torrentFile, src, '--dht', dht], LT_LIMIT_S, { env: LT_IPV6_ONLY })
    .next<{ port: number }>('listening port', STEP_MS)

  const out = path.join(dir, 'out')
  const leecher = await ipv6Client(t, dht, out)
  const archive = await leecher.lookup(created.infoHash, { download: 'all', timeout: STEP_MS })
  // Once complete, the leecher closes its connections to seeds (BEP21): look while it downloads.
  const peers = new Set(archive.peers)
  archive.on('peer', (peer) => peers.add(peer))
  await downloaded(archive)
  assert.ok(peers.has(`[::1]:${port}`), `found ${[...peers].join(', ')}, not libtorrent on [::1]:${port}`)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(path.join(src, 'data.bin'))), 'data.bin differs')
})

test('we seed on IPv6 alone and announce to the IPv6 DHT; libtorrent on IPv6 alone finds us from the magnet link and downloads', { skip }, async (t) => {
  const dht = await ipv6Dht(t)
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 1024 * 1024 + 9)
  const seeder = await ipv6Client(t, dht)
  // A v1 torrent: given a hybrid's magnet, libtorrent 2.0.8 learns our address under both
  // infohashes from the DHT and, when the v2 answer lands while its v1 handshake is in flight,
  // drops our (correct) v1 answer as "invalid info-hash" and waits a minute to retry (README).
  // Hybrids found by the DHT are tested with btmh-only magnets (libtorrent-hybrid-v2hash).
  const magnet = await seeder.seed(file, { version: 1 })
  assert.ok(!magnet.includes('x.pe'), 'the magnet link names no peer: the DHT is the only way to us')
  const out = path.join(dir, 'out')
  const got = await startLtPeer(t, ['download', magnet, out, '--dht', dht], LT_LIMIT_S, { env: LT_IPV6_ONLY })
    .next<{ clients: Array<{ name: string }> }>('finished download', STEP_MS)
  assert.ok(got.clients.some((c) => c.name.startsWith('trackerless ')), 'libtorrent did not download from us')
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})

test('BEP44 over IPv6 alone both ways: libtorrent reads the { ih } we publish, and we get the item it puts next', { skip }, async (t) => {
  // BEP44 asks for at least 8 nodes to store an item.
  const dht = await ipv6Dht(t, 10)
  const publisher = await ipv6Client(t, dht)
  const seed = randomBytes(32)
  const { publicKey, privateKey } = await createKeypair(seed)
  const key = publicKey.toString('hex')
  const draft = new Archive()
  await draft.writeFile('/a.txt', 'v1')
  const magnet = await publisher.seed(draft)
  const link = await publisher.publish(magnet, publicKey, privateKey)
  const read = await startLtPeer(t, ['dht-get', key, '--dht', dht], LT_LIMIT_S, { env: LT_IPV6_ONLY })
    .next<{ seq: number, rendered: string }>('item', STEP_MS)
  assert.equal(read.seq, 1)
  assert.match(read.rendered, new RegExp(`'ih': '${/btih:([0-9a-f]{40})/.exec(magnet)![1]!}'`))

  // libtorrent's binding puts only strings: a genuine item under our key, but not a torrent.
  const put = await startLtPeer(t, ['dht-put', key, seed.toString('hex'), 'a libtorrent note', '--dht', dht], LT_LIMIT_S, { env: LT_IPV6_ONLY })
    .next<{ seq: number }>('put', STEP_MS)
  assert.equal(put.seq, 2)
  const reader = await ipv6Client(t, dht)
  await assert.rejects(reader.lookup(link, { timeout: STEP_MS }), { code: 'EBADTORRENT' })
})
