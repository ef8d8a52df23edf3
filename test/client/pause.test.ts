import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { Archive } from '../../index.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { RawPeer, scene } from '../hostile/raw-peer.js'
import { until } from '../helpers/fixtures.js'

const PIECE = 16 * 1024
const SIZE = 64 * PIECE

test('pause() closes the connections and lets none in; resume() reconnects and the download goes on', async (t) => {
  const { seeder, leecher, magnet, file, seederAddress } = await scene(t, SIZE)
  const data = await fs.readFile(file)
  const archive = await leecher.lookup(magnet, { peers: [seederAddress], timeout: 10_000 })
  const other = await leecher.lookup(magnet)
  const head = Buffer.alloc(PIECE)
  const handle = await archive.open('/data.bin')
  await handle.read(head, 0, PIECE, 0)
  await handle.close()
  const progress = archive.progress
  assert.ok(progress > 0)

  archive.pause()
  assert.equal(archive.paused, true)
  assert.equal(other.paused, true, 'a torrent is paused for all its archives')
  await until(() => archive.peers.length === 0 && seeder.stats().peers === 0, 10_000, 'both ends closed')
  assert.equal(archive.progress, progress, 'verified pieces are kept')

  // A peer knocking while paused is hung up on before our handshake.
  const knock = RawPeer.connect(leecher.port, { infoHash: asInfoHash(Buffer.from(archive.infoHash, 'hex')) })
  await knock.waitClosed(10_000)
  assert.equal(knock.handshake, null, 'a paused torrent answered a handshake')
  assert.equal(archive.peers.length, 0)

  archive.resume()
  assert.equal(other.paused, false)
  await until(() => archive.peers.length === 1, 10_000, 'the named peer dialled again')
  assert.equal(archive.stats().peers.bySource.named, 1)
  const all = await other.readFile('/data.bin', { signal: AbortSignal.timeout(20_000) })
  assert.ok(all.equals(data))
})

test('a draft has nothing to pause', () => {
  const draft = new Archive()
  draft.pause()
  assert.equal(draft.paused, false)
  draft.resume()
})
