import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir } from '../helpers/fixtures.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { STEP_MS, localClient, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90

// By magnet, libtorrent has the info dictionary (BEP9) but no piece layers: it must ask them of us
// with BEP52 hash requests and check our answers against the file roots before it can verify a
// piece. A v2-only torrent leaves it no SHA-1 to fall back on.
// libtorrent 2.0.8 asks the last piece of a v2-only torrent as a whole piece (tail padding): our
// v2-only layout pads it the same way and serves zeros past the last file's end.

for (const version of [2, 'hybrid'] as const) {
  test(`libtorrent downloads our ${version === 2 ? 'v2-only' : 'hybrid'} seed by magnet, piece layers fetched by hash requests`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const src = path.join(dir, 'src')
    await writeMultiFile(src)
    const seeder = await localClient(t)
    const magnet = await seeder.seed(src, { version })
    const meta = parseTorrent(seeder.torrentFile(magnet)!)
    assert.ok((meta.pieceLayers?.size ?? 0) > 0, 'the fixture has files of more than one piece, so piece layers to ask')
    assert.equal(magnet.includes('urn:btmh:1220'), true)
    if (version === 2) assert.equal(magnet.includes('urn:btih:'), false)
    const out = path.join(dir, 'out')
    await startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S).next('finished download', STEP_MS)
    for (const f of meta.files.filter((x) => !x.pad)) {
      assert.ok((await fs.readFile(path.join(out, 'src', f.path))).equals(await fs.readFile(path.join(src, f.path))), `${f.path} differs`)
    }
  })
}
