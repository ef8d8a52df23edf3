import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { pieceHashes } from '../helpers/fixtures.js'
import { TorrentStorage } from '../../lib/storage/torrent-storage.js'
import { memoryStorage } from '../../lib/storage/factories.js'
import { reusePieces } from '../../lib/storage/reuse.js'
import { layoutFiles } from '../../lib/metainfo/create.js'
import type { FileEntry } from '../../lib/metainfo/types.js'
import { Bitfield } from '../../lib/util/bitfield.js'

const PIECE = 16384

/** A stored, complete torrent of the given files, laid out with pad files. */
async function build (name: string, contents: Map<string, Buffer>): Promise<{ storage: TorrentStorage, hashes: Buffer, files: FileEntry[] }> {
  const files = layoutFiles([...contents].map(([path, data]) => ({ path, length: data.length })), PIECE, { padToPieces: true })
  const whole = Buffer.concat(files.map((f) => f.pad ? Buffer.alloc(f.length) : contents.get(f.path)!))
  const hashes = pieceHashes(whole, PIECE)
  const storage = new TorrentStorage({ layout: { pieceLength: PIECE, length: whole.length, files }, name, multiFile: true, pieceHashes: hashes, factory: memoryStorage() })
  return { storage, hashes, files }
}

test('a new version takes its unchanged files from the old one, verified, and leaves the changed ones to download', async () => {
  const a = randomBytes(3 * PIECE + 100)
  const b = randomBytes(2 * PIECE)
  const v1 = await build('v1', new Map([['a.bin', a], ['b.bin', b]]))
  const v2 = await build('v2', new Map([['a.bin', a], ['b.bin', randomBytes(2 * PIECE)]]))
  const whole1 = Buffer.concat(v1.files.map((f) => f.pad ? Buffer.alloc(f.length) : f.path === 'a.bin' ? a : b))
  const have1 = new Bitfield(v1.storage.pieceCount)
  for (let i = 0; i < v1.storage.pieceCount; i++) {
    await v1.storage.writePiece(i, whole1.subarray(i * PIECE, (i + 1) * PIECE))
    have1.set(i)
  }
  const have2 = new Bitfield(v2.storage.pieceCount)
  const copied = await reusePieces({ storage: v1.storage, pieceHashes: v1.hashes, have: have1 }, v2.storage, v2.hashes, have2)

  assert.equal(copied, 4, 'the four pieces of the unchanged file')
  for (let i = 0; i < 4; i++) assert.ok(have2.get(i))
  assert.ok(!have2.get(4) && !have2.get(5), 'the changed file is not taken from the old version')
  assert.ok((await v2.storage.read(0, 0, PIECE)).equals(a.subarray(0, PIECE)))
  await Promise.all([v1.storage.close(), v2.storage.close()])
})
