import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, assertSameTree, downloaded, localClient, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90
const V2META = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_v2meta.py')

/** libtorrent 2.0.8 makes a v2-only .torrent of `source` (inside `dataDir`) with the given piece length. */
function ltCreateV2 (source: string, out: string, pieceLength: number): void {
  const run = spawnSync('/usr/bin/python3', [V2META, 'create', source, out, 'v2', String(pieceLength)], { encoding: 'utf8', timeout: STEP_MS })
  assert.equal(run.status, 0, `lt_v2meta.py create failed: ${run.stderr}`)
}

// Multi-block pieces (32 KiB) check that a short last piece's subtree is padded as libtorrent pads
// it; the single odd-sized file ends inside a block, so libtorrent serves the padded tail.
for (const { name, pieceLength, write } of [
  { name: 'a folder', pieceLength: 32 * 1024, write: async (dir: string) => await writeMultiFile(dir) },
  { name: 'a single file', pieceLength: 64 * 1024, write: async (file: string) => await writeRandomFile(file, 1_000_003) }
]) {
  test(`libtorrent creates and seeds a v2-only torrent of ${name}; we download it by .torrent, byte for byte`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const data = path.join(dir, 'data')
    const source = path.join(data, 'src')
    await write(source)
    const torrentFile = path.join(dir, 'src.torrent')
    ltCreateV2(source, torrentFile, pieceLength)
    const torrent = await fs.readFile(torrentFile)
    const meta = parseTorrent(torrent)
    assert.equal(meta.version, 2)
    assert.equal(meta.pieceLength, pieceLength)
    assert.ok((meta.pieceLayers?.size ?? 0) > 0, 'files of several pieces, so piece layers to verify against')
    const { port } = await startLtPeer(t, ['seed', torrentFile, data], LT_LIMIT_S).next<{ port: number }>('listening port', STEP_MS)
    const out = path.join(dir, 'out')
    const leecher = await localClient(t, out)
    const archive = await leecher.lookup(torrent, { download: 'all', peers: [`127.0.0.1:${port}`] })
    await downloaded(archive)
    if (meta.multiFile) await assertSameTree(source, path.join(out, 'src'))
    else assert.ok((await fs.readFile(path.join(out, 'src'))).equals(await fs.readFile(source)), 'the file differs')
  })
}
