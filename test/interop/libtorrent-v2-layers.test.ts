import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { deliverMetadata, hasSwarm, holdMetadata, peerCount, swarmOf } from '../helpers/v2-layers.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { STEP_MS, assertSameTree, downloaded, localClient, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_v2meta.py')
const PIECE = 16 * 1024

// libtorrent 2.0.8 seeds a v2-only torrent; we hold only its info dictionary (as BEP9 gives it,
// handed over by helpers/v2-layers.ts until v2-only BEP9 lands) and ask libtorrent for every
// piece layer by hash requests. One file has 1,300 pieces: three runs of 512 with uncle hashes.
/** libtorrent makes a v2-only torrent of several files (one of 1,300 pieces) and seeds it. */
async function ltV2Seed (t: TestContext): Promise<{ meta: Metainfo, port: number, torrentFile: string, dir: string }> {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(src)
  await writeRandomFile(path.join(src, 'big.bin'), 1300 * PIECE - 77)
  const torrentFile = path.join(dir, 'v2.torrent')
  const created = spawnSync('/usr/bin/python3', [SCRIPT, 'create', src, torrentFile, 'v2', String(PIECE)], { encoding: 'utf8', timeout: STEP_MS })
  assert.equal(created.status, 0, created.stderr)
  const meta = parseTorrent(await fs.readFile(torrentFile))
  assert.equal(meta.version, 2)
  assert.ok((meta.pieceLayers?.size ?? 0) >= 2, 'several files have piece layers')
  const { port } = await startLtPeer(t, ['seed', torrentFile, dir], LT_LIMIT_S).next<{ port: number }>('listening port', STEP_MS)
  return { meta, port, torrentFile, dir }
}

function assertLayers (layers: Map<string, Buffer> | Error, meta: Metainfo): void {
  if (layers instanceof Error) throw layers
  assert.deepEqual([...layers.keys()].sort(), [...meta.pieceLayers!.keys()].sort())
  for (const [root, layer] of meta.pieceLayers!) assert.ok(layers.get(root)!.equals(layer), `the layer of ${root} differs`)
}

test('libtorrent seeds a v2-only torrent; we fetch its piece layers by hash requests, equal to its .torrent\'s', { skip }, async (t) => {
  const { meta, port } = await ltV2Seed(t)
  // The infohash alone first: our BEP9 checks SHA-1 only, so metadata fetched from libtorrent
  // would convict it; the swarm gets the info dictionary before any peer is known.
  const leecher = await localClient(t)
  const lookup = leecher.lookup(meta.infoHash.toString('hex'), { timeout: STEP_MS })
  lookup.catch(() => {})
  await until(() => hasSwarm(leecher, meta), STEP_MS, 'the lookup registered its swarm')
  const fetched = deliverMetadata(leecher, meta)
  leecher.lookup(`magnet:?xt=urn:btih:${meta.infoHash.toString('hex')}&x.pe=127.0.0.1:${port}`, { timeout: STEP_MS }).catch(() => {})
  assertLayers(await fetched, meta)
})

// A magnet naming a v2-only torrent by btih does not tell us it is v2 until the metadata: the
// connection made before carries no v2 bit in our handshake. libtorrent 2.0.8 answers our hash
// requests on it all the same (its swarm for the torrent is v2 only), so it is kept.
test('connected to libtorrent before we knew the torrent was v2 (no v2 bit from us): it answers on that connection', { skip }, async (t) => {
  const { meta, port } = await ltV2Seed(t)
  const leecher = await localClient(t)
  const lookup = leecher.lookup(meta.infoHash.toString('hex'), { timeout: STEP_MS })
  lookup.catch(() => {})
  await until(() => hasSwarm(leecher, meta), STEP_MS, 'the lookup registered its swarm')
  holdMetadata(leecher, meta)
  leecher.lookup(`magnet:?xt=urn:btih:${meta.infoHash.toString('hex')}&x.pe=127.0.0.1:${port}`, { timeout: STEP_MS }).catch(() => {})
  await until(() => peerCount(leecher, meta) > 0, STEP_MS, 'libtorrent connected')
  const first = [...(swarmOf(leecher, meta) as unknown as { peers: Set<{ wire: { once: (e: 'close', f: () => void) => void } }> }).peers][0]!
  let dropped = false
  first.wire.once('close', () => { dropped = true })
  assertLayers(await deliverMetadata(leecher, meta), meta)
  assert.equal(dropped, false, 'the connection without the v2 bit was kept')
})

test('libtorrent seeds a v2-only torrent; we download it by its btmh magnet', { skip }, async (t) => {
  const { meta, port, dir } = await ltV2Seed(t)
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const magnet = `magnet:?xt=urn:btmh:1220${meta.infoHashV2!.toString('hex')}`
  const archive = await leecher.lookup(magnet, { download: 'all', peers: [`127.0.0.1:${port}`], timeout: STEP_MS })
  await downloaded(archive)
  await assertSameTree(path.join(dir, 'src'), path.join(out, 'src'))
})
