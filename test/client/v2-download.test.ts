import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import type { PeerList } from '../../lib/swarm/peer-list.js'
import type { Torrent } from '../../index.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { assertSameTree, downloaded, localClient } from '../interop/fixtures.js'
import { lyingSeed } from '../hostile/raw-peer.js'

const BLOCK = 16 * 1024

/** Files of several pieces (one ending mid-block), of exactly one 16 KiB piece, under a block, empty. */
async function writeV2Folder (root: string): Promise<void> {
  await writeRandomFile(path.join(root, 'a.bin'), 300_001)
  await writeRandomFile(path.join(root, 'sub/one-piece.bin'), BLOCK)
  await fs.writeFile(path.join(root, 'sub/small.txt'), 'smaller than a block')
  await fs.writeFile(path.join(root, 'empty'), '')
  await writeRandomFile(path.join(root, 'z.bin'), 5 * BLOCK + 7)
}

function banReason (client: Torrent, infoHash: Buffer, address: string): string | undefined {
  const swarms = (client as unknown as { swarms: Map<string, { swarm: Pick<PeerList, 'banReason'> }> }).swarms
  return swarms.get(infoHash.toString('hex'))!.swarm.banReason(address)
}

test('a v2-only seed of ours downloads by .torrent, every piece verified against the piece layers', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeV2Folder(src)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { version: 2 })
  const torrent = seeder.torrentFile(magnet)!
  const meta = parseTorrent(torrent)
  assert.equal(meta.version, 2)
  assert.equal(meta.pieceLength, BLOCK, 'one-piece and sub-block files need 16 KiB pieces')
  assert.ok((meta.pieceLayers?.size ?? 0) >= 2)
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(torrent, { download: 'all', peers: [`127.0.0.1:${seeder.port}`] })
  await downloaded(archive)
  await assertSameTree(src, path.join(out, 'src'))
  // Restarted on what it holds, the resume scan verifies by layers too: nothing to fetch again.
  await leecher.stop()
  const again = await localClient(t, out)
  const reopened = await again.lookup(torrent, { download: 'all' })
  assert.equal(reopened.progress, 1)
})

test('a v2-only torrent: a peer whose blocks fail the merkle check is banned for it; the download finishes from the seed', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeV2Folder(src)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { version: 2 })
  const torrent = seeder.torrentFile(magnet)!
  const meta = parseTorrent(torrent)
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(torrent, { download: 'all' })
  const { address: liarAddress, served } = await lyingSeed(leecher.port, meta.infoHash)
  assert.ok(served > 0, 'the liar was never asked for a block')
  assert.match(banReason(leecher, meta.infoHash, liarAddress) ?? 'not banned', /failed the hash check/)
  await leecher.lookup(torrent, { peers: [`127.0.0.1:${seeder.port}`] })
  await downloaded(archive)
  await assertSameTree(src, path.join(out, 'src'))
})
