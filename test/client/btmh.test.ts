import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import fsSync from 'node:fs'
import path from 'node:path'
import DHT from 'bittorrent-dht'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { formatMagnet } from '../../lib/metainfo/magnet.js'
import { SwarmHashes, infoMatches } from '../../lib/swarm/swarm-hashes.js'
import { encodeMetadataMessage, decodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import { asInfoHash, type InfoHash } from '../../lib/util/ids.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'
import { encodeExtendedHandshake } from '../../lib/wire/extended.js'
import { once, tmpDir, until } from '../helpers/fixtures.js'
import { resumePath } from '../../lib/storage/resume-data.js'
import { MiB, RAW_EXTENSIONS, RawPeer, rawServer, scene } from '../hostile/raw-peer.js'
import { encodePexMessage } from '../../lib/wire/ut-pex.js'

/** A hybrid's 20-byte name in the v2 swarm (BEP52: the SHA-256 infohash truncated). */
function v2Hash (meta: Metainfo): InfoHash {
  return asInfoHash(meta.infoHashV2!.subarray(0, 20))
}

/** The magnet a user holding only the v2 infohash has. */
function btmhOnly (meta: Metainfo, peers: string[] = []): string {
  return formatMagnet({ infoHashV2: meta.infoHashV2!, peers })
}

interface Internals { swarms: Map<string, { swarm: { banReason: (address: string, id?: string) => string | undefined, infoHash: InfoHash } }> }

async function bootstrapNode (t: TestContext): Promise<{ dht: DHT, address: string }> {
  const dht = new DHT({ bootstrap: false })
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => new Promise<void>((resolve) => dht.destroy(() => resolve())))
  return { dht, address: `127.0.0.1:${dht.address().port}` }
}

test('metadata is checked by SHA-256 against a full v2 infohash, by SHA-1 or truncated SHA-256 against 20 bytes', async (t) => {
  const s = await scene(t, 64 * 1024)
  const v1 = await buildMetainfo(await readTree(s.file), directoryStorage(path.dirname(s.file)), { version: 1 })
  assert.equal(s.meta.version, 'hybrid')
  assert.equal(infoMatches(s.meta.info, s.meta.infoHashV2!), true)
  assert.equal(infoMatches(s.meta.info, s.meta.infoHash), true)
  assert.equal(infoMatches(s.meta.info, v2Hash(s.meta)), true)
  // The same files as a v1 torrent: a valid info dictionary, but not the one the btmh names.
  assert.equal(infoMatches(v1.info, s.meta.infoHashV2!), false)
  assert.equal(infoMatches(v1.info, v2Hash(s.meta)), false)
})

test('a hybrid seed answers a handshake on its truncated v2 infohash with that hash; an unknown hash is dropped', async (t) => {
  const s = await scene(t, MiB)
  const peer = await RawPeer.dial(s.seeder.port, { infoHash: v2Hash(s.meta) })
  t.after(() => peer.destroy())
  assert.deepEqual(peer.handshake?.infoHash, v2Hash(s.meta))
  // The connection goes on past the handshake: the seed's BEP10 handshake follows.
  await until(() => peer.extensions !== null, 5_000, 'the extended handshake')
  assert.equal(peer.closed, false)

  const stranger = RawPeer.connect(s.seeder.port, { infoHash: asInfoHash(randomBytes(20)) })
  await stranger.waitClosed(5_000)
  assert.equal(stranger.handshake, null)
})

test('a btmh-only magnet downloads a hybrid seed over MSE (the SKEY of the v2 hash is found) with the named peer', async (t) => {
  const s = await scene(t, 2 * MiB, { encryption: 'require' }, { encryption: 'require' })
  const archive = await s.leecher.lookup(btmhOnly(s.meta, [s.seederAddress]), { download: 'all', timeout: 20_000 })
  t.after(() => archive.close())
  assert.equal(archive.infoHash, v2Hash(s.meta).toString('hex'))
  assert.ok((await archive.readFile(`/${s.meta.name}`) as Buffer).equals(await fs.readFile(s.file)))
  // Once the metadata said hybrid, the link names both hashes.
  assert.ok(archive.url.includes(`urn:btih:${s.meta.infoHash.toString('hex')}`), archive.url)
})

test('a btmh-only magnet finds the hybrid seed through a local DHT (announced under its truncated v2 hash) and downloads', async (t) => {
  const boot = await bootstrapNode(t)
  const s = await scene(t, 2 * MiB, { dht: [boot.address] }, { dht: [boot.address] })
  const archive = await s.leecher.lookup(btmhOnly(s.meta), { download: 'all', timeout: 20_000 })
  t.after(() => archive.close())
  const peers = new Set(archive.peers)
  archive.on('peer', (address) => peers.add(address))
  assert.ok((await archive.readFile(`/${s.meta.name}`) as Buffer).equals(await fs.readFile(s.file)))
  assert.ok(peers.has(s.seederAddress), `found the seeder in the DHT: ${[...peers].join(', ')}`)
  // The metadata said hybrid: the leecher answers on the v1 hash too, with that hash.
  const v1 = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => v1.destroy())
  assert.deepEqual(v1.handshake?.infoHash, s.meta.infoHash)
})

test('a peer serving an info dictionary whose SHA-256 is not the btmh is banned as a bad metadata source; the seeder supplies the true one', async (t) => {
  const s = await scene(t, MiB)
  const wrong = (await buildMetainfo(await readTree(s.file), directoryStorage(path.dirname(s.file)), { version: 1 })).info
  const lookup = s.leecher.lookup(btmhOnly(s.meta), { timeout: 20_000 })
  lookup.catch(() => {})
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: v2Hash(s.meta) })
  t.after(() => liar.destroy())
  liar.onFrame((f) => {
    if (f.type !== 'extended' || f.id !== RAW_EXTENSIONS.ut_metadata) return
    const msg = decodeMetadataMessage(f.payload)
    if (msg?.type !== 'request') return
    const data = wrong.subarray(msg.piece * BLOCK_SIZE, (msg.piece + 1) * BLOCK_SIZE)
    liar.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'data', piece: msg.piece, totalSize: wrong.length, data }))
  })
  liar.sendExtendedHandshake({ metadataSize: wrong.length })
  await liar.waitClosed()
  const swarm = (s.leecher as unknown as Internals).swarms.get(v2Hash(s.meta).toString('hex'))!.swarm
  await until(() => swarm.banReason(`127.0.0.1:${liar.socket.localPort!}`, liar.peerId.toString('hex')) !== undefined, 5_000, 'the ban')
  assert.equal(swarm.banReason('127.0.0.9:1', liar.peerId.toString('hex')), 'sent data that failed the hash check')

  const again = RawPeer.connect(s.leecher.port, { infoHash: v2Hash(s.meta), peerId: liar.peerId })
  await again.waitClosed()
  const archive = await s.leecher.lookup(btmhOnly(s.meta, [s.seederAddress]))
  t.after(() => archive.close())
  await lookup
  assert.equal(archive.name, s.meta.name)
})

test('a hybrid\'s hashes: the other one is learned from the metadata, addresses keep the hash they were found under, within a bound', async (t) => {
  const s = await scene(t, 64 * 1024)
  const hashes = new SwarmHashes(v2Hash(s.meta), s.meta.infoHashV2)
  assert.deepEqual(hashes.metadataHash, s.meta.infoHashV2)
  assert.deepEqual(hashes.aliases, [])
  assert.deepEqual(hashes.learn(s.meta), [s.meta.infoHash])
  assert.deepEqual(hashes.learn(s.meta), [])
  assert.equal(hashes.answers(s.meta.infoHash), true)
  assert.equal(hashes.answers(randomBytes(20)), false)
  // A v1 swarm of the same hybrid: metadata by SHA-1, the v2 hash as the alias.
  const v1 = new SwarmHashes(s.meta.infoHash, s.meta.infoHashV2)
  assert.deepEqual(v1.metadataHash, s.meta.infoHash)
  assert.deepEqual(v1.aliases, [v2Hash(s.meta)])
  // Found under the v2 hash: dialled with it; past the bound the oldest fall back to the primary.
  for (let i = 0; i < 5000; i++) v1.foundUnder(`10.0.${i >> 8}.${i & 255}:1`, v2Hash(s.meta))
  assert.deepEqual(v1.forAddress('10.0.19.135:1'), v2Hash(s.meta))
  assert.deepEqual(v1.forAddress('10.0.0.0:1'), s.meta.infoHash)
  v1.foundUnder('10.0.19.135:1', s.meta.infoHash)
  assert.deepEqual(v1.forAddress('10.0.19.135:1'), s.meta.infoHash)
})

test('a peer that PEX names on the hybrid\'s v2 hash is dialled with that hash', async (t) => {
  const s = await scene(t, MiB, { pex: true, encryption: 'disable' })
  let named: Buffer | null = null
  const target = await rawServer(t, (socket) => {
    socket.once('data', (chunk: Buffer) => { named = chunk.subarray(28, 48) })
  })
  const peer = await RawPeer.dial(s.seeder.port, { infoHash: v2Hash(s.meta) })
  t.after(() => peer.destroy())
  peer.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: { ut_pex: 7 } }) })
  await until(() => peer.extensions?.m.ut_pex !== undefined, 5_000, "the seeder's extended handshake")
  peer.send({ type: 'extended', id: peer.extensions!.m.ut_pex!, payload: encodePexMessage({ added: [{ host: '127.0.0.1', port: target.port, flags: 0 }], dropped: [] }) })
  await until(() => named !== null, 10_000, 'the dial of the peer PEX named')
  assert.deepEqual(named, v2Hash(s.meta))
})

test('remove({ deleteData }) of a btmh magnet deletes the download and the resume data kept under the v2 hash', async (t) => {
  const dir = await tmpDir(t)
  const out = path.join(dir, 'out')
  const stateDir = path.join(dir, 'state')
  const s = await scene(t, MiB, {}, { storage: out, stateDir })
  const link = btmhOnly(s.meta, [s.seederAddress])
  const archive = await s.leecher.lookup(link, { download: 'all', timeout: 20_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  const resume = resumePath(stateDir, v2Hash(s.meta).toString('hex'))
  // Written at completion.
  await until(() => fsSync.existsSync(resume), 10_000, 'the resume data')
  assert.deepEqual(await s.leecher.remove(link, { deleteData: true }), [path.join(out, s.meta.name)])
  await assert.rejects(fs.access(resume), { code: 'ENOENT' })
})
