import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir } from '../helpers/fixtures.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { formatMagnet } from '../../lib/metainfo/magnet.js'
import { STEP_MS, assertSameTree, downloaded, localClient, loopbackDht, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90
const V2META = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_v2meta.py')

/** The link of a user who has only the v2 infohash (BEP52 btmh) of a hybrid. */
function btmhOnly (v2: Buffer, peers: string[] = []): string {
  return formatMagnet({ infoHashV2: v2, peers })
}

// libtorrent knows a btmh-only torrent by the truncated v2 hash: it handshakes, announces and
// looks up under it, so it reaches our hybrid seed only if we answer and announce that hash.
for (const how of ['named peer', 'DHT'] as const) {
  test(`libtorrent given only the btmh magnet of our hybrid seed downloads it (${how})`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const src = path.join(dir, 'src')
    await writeMultiFile(src)
    const dht = how === 'DHT' ? await loopbackDht(t) : false
    const seeder = await localClient(t, undefined, dht === false ? false : [dht])
    const magnet = await seeder.seed(src, { version: 'hybrid' })
    const meta = parseTorrent(seeder.torrentFile(magnet)!)
    const out = path.join(dir, 'out')
    const where = dht === false ? [`127.0.0.1:${seeder.port}`] : ['--dht', dht]
    const done = await startLtPeer(t, ['download', btmhOnly(meta.infoHashV2!), out, ...where], LT_LIMIT_S)
      .next<{ dialled: string[] }>('finished download', STEP_MS)
    if (dht !== false) assert.ok(done.dialled.includes(`127.0.0.1:${seeder.port}`), `libtorrent found us in the DHT: ${done.dialled.join(', ')}`)
    await assertSameTree(src, path.join(out, 'src'))
  })
}

for (const how of ['named peer', 'DHT'] as const) {
  test(`we download libtorrent's hybrid seed from a btmh-only magnet (${how})`, { skip }, async (t) => {
    const dir = await tmpDir(t)
    const src = path.join(dir, 'src')
    await writeMultiFile(src)
    const torrent = path.join(dir, 'src.torrent')
    const made = spawnSync('/usr/bin/python3', [V2META, 'create', src, torrent, 'hybrid', String(256 * 1024)], { encoding: 'utf8', timeout: STEP_MS })
    assert.equal(made.status, 0, `lt_v2meta.py create failed: ${made.stderr}`)
    const v2 = Buffer.from((JSON.parse(made.stdout) as { v2: string }).v2, 'hex')
    const dht = how === 'DHT' ? await loopbackDht(t) : null
    const { port } = await startLtPeer(t, ['seed', torrent, dir, ...(dht !== null ? ['--dht', dht] : [])], LT_LIMIT_S)
      .next<{ port: number }>('listening port', STEP_MS)
    const leecher = await localClient(t, path.join(dir, 'got'), dht === null ? false : [dht])
    const archive = await leecher.lookup(btmhOnly(v2, dht === null ? [`127.0.0.1:${port}`] : []), { download: 'all', timeout: STEP_MS })
    t.after(() => archive.close())
    assert.equal(archive.infoHash, v2.subarray(0, 20).toString('hex'))
    await downloaded(archive)
    for (const file of ['a.bin', 'sub/b.bin', 'sub/c.txt', 'z.bin']) {
      assert.ok((await archive.readFile(`/${file}`) as Buffer).equals(await fs.readFile(path.join(src, file))), `${file} differs`)
    }
  })
}
