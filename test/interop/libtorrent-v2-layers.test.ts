import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { deliverMetadata, hasSwarm } from '../helpers/v2-layers.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { STEP_MS, localClient, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_v2meta.py')
const PIECE = 16 * 1024

// libtorrent 2.0.8 seeds a v2-only torrent; we hold only its info dictionary (as BEP9 gives it,
// handed over by helpers/v2-layers.ts until v2-only BEP9 lands) and ask libtorrent for every
// piece layer by hash requests. One file has 1,300 pieces: three runs of 512 with uncle hashes.
test('libtorrent seeds a v2-only torrent; we fetch its piece layers by hash requests, equal to its .torrent\'s', { skip }, async (t) => {
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

  // The infohash alone first: our BEP9 checks SHA-1 only, so metadata fetched from libtorrent
  // would convict it; the swarm gets the info dictionary before any peer is known.
  const leecher = await localClient(t, 'memory')
  const lookup = leecher.lookup(meta.infoHash.toString('hex'), { timeout: STEP_MS })
  lookup.catch(() => {})
  await until(() => hasSwarm(leecher, meta), STEP_MS, 'the lookup registered its swarm')
  const fetched = deliverMetadata(leecher, meta)
  leecher.lookup(`magnet:?xt=urn:btih:${meta.infoHash.toString('hex')}&x.pe=127.0.0.1:${port}`, { timeout: STEP_MS }).catch(() => {})
  const layers = await fetched
  if (layers instanceof Error) throw layers
  assert.deepEqual([...layers.keys()].sort(), [...meta.pieceLayers!.keys()].sort())
  for (const [root, layer] of meta.pieceLayers!) assert.ok(layers.get(root)!.equals(layer), `the layer of ${root} differs`)
})
