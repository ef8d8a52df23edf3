/**
 * aria2 both ways (issue 20). aria2 announces HAVE-NONE and then a BITFIELD each time it completes
 * pieces; a seeder that dropped it for the repeated BITFIELD never finished. aria2 cannot be told
 * to dial a peer of a .torrent, so our side dials it: a named peer, retried until aria2 listens.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, downloaded, localClient } from './fixtures.js'
import { aria2Missing, startAria2 } from './aria2-peer.js'
import { freePort } from '../hostile/raw-peer.js'

const skip = aria2Missing()
/** aria2's own limit (--stop); the test's waits are shorter, so that they fail first and say why. */
const ARIA2_LIMIT_S = 90

async function torrentOf (dir: string, size: number): Promise<{ file: string, torrentFile: string, infoHash: string }> {
  const file = path.join(dir, 'src', 'data.bin')
  await writeRandomFile(file, size)
  // v1: aria2 1.x hashes its own re-encoding of the info fields it knows, so a hybrid's infohash
  // comes out different there (it does so for libtorrent's hybrids too) and no handshake matches.
  const meta = await buildMetainfo(await readTree(file), directoryStorage(path.dirname(file)), { version: 1 })
  const torrentFile = path.join(dir, 'data.torrent')
  await fs.writeFile(torrentFile, encodeTorrentFile(meta))
  return { file, torrentFile, infoHash: meta.infoHash.toString('hex') }
}

test('we seed; aria2 downloads a multi-MiB torrent from us, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t, 'tl-aria2-')
  const { file, torrentFile, infoHash } = await torrentOf(dir, 6 * 1024 * 1024 + 5)
  const port = await freePort()
  const seeder = await localClient(t)
  const magnet = await seeder.seed(file, { peers: [`127.0.0.1:${port}`], version: 1 })
  assert.match(magnet, new RegExp(infoHash, 'i'))
  const out = path.join(dir, 'out')
  const aria2 = startAria2(t, torrentFile, out, port, ARIA2_LIMIT_S)
  let timer: NodeJS.Timeout | undefined
  const code = await Promise.race([aria2.exited, new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`aria2 did not finish within ${STEP_MS} ms:\n${aria2.output()}`)), STEP_MS)
  })]).finally(() => clearTimeout(timer))
  assert.equal(code, 0, `aria2 exited with ${String(code)}:\n${aria2.output()}`)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})

test('aria2 seeds; we download a multi-MiB torrent from it, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t, 'tl-aria2-')
  const { file, torrentFile } = await torrentOf(dir, 6 * 1024 * 1024 + 5)
  const port = await freePort()
  const aria2 = startAria2(t, torrentFile, path.dirname(file), port, ARIA2_LIMIT_S, true)
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(await fs.readFile(torrentFile), { download: 'all', peers: [`127.0.0.1:${port}`] })
  await downloaded(archive).catch((err: Error) => { throw new Error(`${err.message}\naria2:\n${aria2.output()}`) })
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})
