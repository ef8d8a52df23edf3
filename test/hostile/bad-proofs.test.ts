import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { encodeHashMessage, HASHES_ID } from '../../lib/wire/hash-messages.js'
import type { Frame } from '../../lib/wire/codec.js'
import { BAD_PROOF } from '../../lib/swarm/piece-layers.js'
import { unclesOf } from '../../lib/swarm/layer-requests.js'
import { deliverMetadata, swarmOf } from '../helpers/v2-layers.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { MiB, RawPeer } from './raw-peer.js'

interface V2Scene { seeder: Torrent, leecher: Torrent, meta: Metainfo, seederAddress: string }

/** A seeder of a v2-only torrent (4 MiB in one file: several pieces, so a piece layer) and a
 *  leecher that knows only its (truncated) infohash. */
async function v2Scene (t: TestContext): Promise<V2Scene> {
  const dir = await tmpDir(t, 'tl-bad-proofs-')
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, 4 * MiB)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  t.after(() => Promise.all([seeder.stop(), leecher.stop()]))
  await Promise.all([seeder.start(), leecher.start()])
  const magnet = await seeder.seed(file, { version: 2 })
  const meta = parseTorrent(seeder.torrentFile(magnet)!)
  assert.equal(meta.pieceLayers?.size, 1, 'the file has a piece layer to fetch')
  return { seeder, leecher, meta, seederAddress: `127.0.0.1:${seeder.port}` }
}

function banReason (s: V2Scene, peer: RawPeer): string | undefined {
  return swarmOf(s.leecher, s.meta).banReason(`127.0.0.1:${peer.socket.localPort ?? 0}`, peer.peerId.toString('hex'))
}

/** A scripted v2 peer connected to the leecher, which opens the torrent by its infohash alone and
 *  then gets the metadata (helpers/v2-layers.ts): the peer is there when the layers are asked.
 *  The leecher's hash requests go to `onHashRequest`. */
async function hostilePeer (s: V2Scene, onHashRequest: (peer: RawPeer, frame: Frame & { type: 'hash-request' }) => void): Promise<{ peer: RawPeer, layers: Promise<Map<string, Buffer> | Error>, lookup: Promise<unknown> }> {
  const lookup = s.leecher.lookup(s.meta.infoHash.toString('hex'), { timeout: 30_000 })
  lookup.catch(() => {})
  const peer = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash, v2: true })
  peer.onFrame((f) => { if (f.type === 'hash-request') onHashRequest(peer, f) })
  const layers = deliverMetadata(s.leecher, s.meta)
  return { peer, layers, lookup }
}

/** The honest seeder joins; the layers come from it, equal to the .torrent's. */
async function honestLayers (s: V2Scene, layers: Promise<Map<string, Buffer> | Error>): Promise<void> {
  await s.leecher.lookup(`magnet:?xt=urn:btih:${s.meta.infoHash.toString('hex')}&x.pe=${s.seederAddress}`).catch(() => {})
  const got = await layers
  if (got instanceof Error) throw got
  assert.deepEqual([...got.entries()], [...s.meta.pieceLayers!.entries()])
}

test('a peer whose piece layer hashes do not prove the file root is banned; an honest v2 peer supplies the layer', async (t) => {
  const s = await v2Scene(t)
  let answered = 0
  const { peer, layers } = await hostilePeer(s, (p, req) => {
    answered++
    p.send({ ...req, type: 'hashes', hashes: randomBytes((req.length + unclesOf(req)) * 32) })
  })
  await peer.waitClosed()
  assert.ok(answered > 0, 'the leecher asked the liar for hashes')
  assert.equal(banReason(s, peer), BAD_PROOF)
  await honestLayers(s, layers)
})

test('a hashes message longer than the request allows closes the connection; an honest peer supplies the layer', async (t) => {
  const s = await v2Scene(t)
  const { peer, layers } = await hostilePeer(s, (p, req) => {
    // The asked hashes and uncles, and a hundred more.
    const frame = encodeHashMessage({ ...req, type: 'hashes', hashes: randomBytes((req.length + unclesOf(req) + 100) * 32) })
    assert.equal(frame[4], HASHES_ID)
    p.sendRaw(frame)
  })
  await peer.waitClosed()
  await honestLayers(s, layers)
})

test('hashes nobody asked for close the connection, without a ban; an honest peer supplies the layer', async (t) => {
  const s = await v2Scene(t)
  const { peer, layers } = await hostilePeer(s, (p, req) => {
    p.send({ ...req, index: req.index + req.length, type: 'hashes', hashes: randomBytes((req.length + unclesOf(req)) * 32) })
  })
  await peer.waitClosed()
  assert.equal(banReason(s, peer), undefined)
  await honestLayers(s, layers)
})
