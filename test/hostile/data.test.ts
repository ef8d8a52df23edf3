import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import type { PeerList } from '../../lib/swarm/peer-list.js'
import { once, until } from '../helpers/fixtures.js'
import { MiB, RawPeer, lyingSeed, rawServer, scene } from './raw-peer.js'

test('a peer whose blocks fail the hash is banned; the download finishes from the honest seeder', async (t) => {
  const s = await scene(t, 4 * MiB)
  const torrent = encodeTorrentFile(s.meta)
  const archive = await s.leecher.lookup(torrent, { download: 'all' })
  const { liar, address: liarAddress, served } = await lyingSeed(s.leecher.port, s.meta.infoHash)
  assert.ok(served > 0, 'the liar was never asked for a block')
  const swarms = (s.leecher as unknown as { swarms: Map<string, { swarm: Pick<PeerList, 'banReason'> }> }).swarms
  const peerList = swarms.get(s.meta.infoHash.toString('hex'))!.swarm
  assert.match(peerList.banReason(liarAddress) ?? 'not banned', /failed the hash check/)
  assert.match(peerList.banReason('127.0.0.1:1', liar.peerId.toString('hex')) ?? 'not banned', /failed the hash check/, 'its peer id was not banned')

  const again = RawPeer.connect(s.leecher.port, { infoHash: s.meta.infoHash, peerId: liar.peerId })
  await again.waitClosed()

  // Once complete, the leecher closes its connection to the seeder (BEP21): count who joined.
  const joined = new Set<string>()
  archive.on('peer', (address) => joined.add(address))
  await s.leecher.lookup(torrent, { peers: [s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
  assert.deepEqual([...joined], [s.seederAddress])
})

test('a peer that never sends and one that takes requests but never answers do not stop the download', async (t) => {
  const s = await scene(t, 4 * MiB)
  let accepted = 0
  const silent = await rawServer(t, () => { accepted++ })
  const torrent = encodeTorrentFile(s.meta)
  const archive = await s.leecher.lookup(torrent, { download: 'all', peers: [silent.address] })

  // The staller comes first, so that it owns pieces the honest seeder may only take in end-game.
  const staller = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => staller.destroy())
  const asked = staller.next((f) => f.type === 'request')
  staller.send({ type: 'have-all' })
  staller.send({ type: 'unchoke' })
  await asked

  await s.leecher.lookup(torrent, { peers: [s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
  // The silent peer is dropped once its handshake is overdue.
  await until(() => accepted > 0 && silent.sockets.size === 0, 30_000, 'the silent peer was dropped')
})
