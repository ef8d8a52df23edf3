import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { RawPeer, rawServer, scene } from '../hostile/raw-peer.js'
import { encodeExtendedHandshake } from '../../lib/wire/extended.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { once, until } from '../helpers/fixtures.js'

test('lt_donthave (BEP54): a piece a peer no longer has is never asked of it again, and comes from another peer', async (t) => {
  const s = await scene(t)
  let evicted = -1
  const askedAfter: number[] = []
  const server = await rawServer(t, (socket) => {
    const peer = new RawPeer(socket, { infoHash: s.meta.infoHash })
    peer.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: { lt_donthave: 7 } }) })
    peer.send({ type: 'have-all' })
    peer.send({ type: 'unchoke' })
    peer.onFrame((frame) => {
      if (frame.type !== 'request') return
      if (evicted === -1) {
        // It "evicts" the first piece asked for: DONTHAVE, then the rejects that BEP6 requires.
        evicted = frame.index
        const payload = Buffer.alloc(4)
        payload.writeUInt32BE(evicted)
        peer.send({ type: 'extended', id: peer.extensions!.m.lt_donthave!, payload })
      } else if (frame.index === evicted) {
        askedAfter.push(frame.index)
      }
      peer.send({ type: 'reject', index: frame.index, begin: frame.begin, length: frame.length })
    })
  })
  const archive = await s.leecher.lookup(encodeTorrentFile(s.meta), { download: 'all', peers: [`127.0.0.1:${server.port}`] })
  await until(() => evicted !== -1, 10_000, 'the leecher asked the scripted peer for a piece')
  await s.leecher.lookup(s.magnet, { peers: [s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 30_000)
  assert.deepEqual(askedAfter, [], `piece ${evicted} was asked of the peer again after its DONTHAVE`)
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))
})
