import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Torrent } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { tmpDir, writeRandomFile, once, until } from '../helpers/fixtures.js'
import { localClient, addressOf, rejection } from './local.js'

const KiB = 1024
const MiB = 1024 * KiB

/** A seeded file and its metainfo (for .torrent lookups and piece arithmetic). */
async function seedFile (t: TestContext, size: number): Promise<{ seeder: Torrent, file: string, meta: Metainfo, magnet: string }> {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, size)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(file)
  const meta = await buildMetainfo(await readTree(file), directoryStorage(dir, { readOnly: true }))
  return { seeder, file, meta, magnet }
}

async function slice (file: string, start: number, length: number): Promise<Buffer> {
  const handle = await fs.open(file)
  try {
    const out = Buffer.alloc(length)
    await handle.read(out, 0, length, start)
    return out
  } finally {
    await handle.close()
  }
}

test('64 KiB from the middle of a 256 MiB file: that region comes first, ahead of the background download', async (t) => {
  const { seeder, file, meta, magnet } = await seedFile(t, 256 * MiB)
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], download: 'all', timeout: 10_000 })
  let verified = 0
  archive.on('progress', () => { verified++ })

  const start = 128 * MiB + 12_345
  const stream = archive.createReadStream('/data.bin', { start, end: start + 64 * KiB - 1 })
  const chunks: Buffer[] = []
  let piecesBeforeFirstByte = -1
  for await (const chunk of stream) {
    if (piecesBeforeFirstByte === -1) piecesBeforeFirstByte = verified
    chunks.push(chunk as Buffer)
  }
  assert.ok(Buffer.concat(chunks).equals(await slice(file, start, 64 * KiB)))
  // The region spans 1-2 pieces; a few more may already have been in flight from the background
  // download. Without priority the read would wait for about half of the 1024 pieces.
  assert.equal(meta.pieceCount, 1024)
  assert.ok(piecesBeforeFirstByte >= 1 && piecesBeforeFirstByte <= 32, `${piecesBeforeFirstByte} pieces arrived before the first byte`)
  await archive.close()
})

test('a stream reads ahead: the pieces after the reader are fetched while it pauses', async (t) => {
  const { seeder, file, meta, magnet } = await seedFile(t, 4 * MiB)
  const reader = await localClient(t)
  const archive = await reader.lookup(magnet, { peers: [addressOf(seeder)], download: 'lazy', timeout: 10_000 })
  assert.ok(meta.pieceCount >= 8, `${meta.pieceCount} pieces`)

  const stream = archive.createReadStream('/data.bin')
  const [first] = await once<[Buffer]>(stream, 'data', 10_000)
  stream.pause()
  assert.ok(first.equals(await slice(file, 0, first.length)))
  // Lazy: nothing but reads fetches pieces, and the reader took one chunk. Read-ahead fetches the rest.
  await until(() => archive.progress === 1, 20_000, 'read-ahead fetching the pieces after the reader')
  stream.destroy()
})

test('an AbortSignal cancels a pending read and a pending stream; the read no longer jumps the queue', async (t) => {
  const { seeder, meta } = await seedFile(t, 4 * MiB)
  const torrent = encodeTorrentFile(meta)
  const reader = await localClient(t)
  // From a .torrent, with no peer yet: the lookup resolves, and every read waits.
  const archive = await reader.lookup(torrent)
  const piece = meta.pieceLength

  const controller = new AbortController()
  const pending = archive.readFile('/data.bin', { signal: controller.signal })
  setImmediate(() => controller.abort())
  assert.equal((await rejection(pending)).code, 'EABORTED')
  assert.equal((await rejection(archive.readFile('/data.bin', { signal: AbortSignal.abort() }))).code, 'EABORTED')

  const streamController = new AbortController()
  const stream = archive.createReadStream('/data.bin', { start: 0, end: piece - 1, signal: streamController.signal })
  const failed = once<[Error & { code: string }]>(stream, 'error', 5000)
  stream.resume()
  setImmediate(() => streamController.abort())
  assert.equal((await failed)[0].code, 'EABORTED')

  // Now a peer arrives and a read of one late piece runs. Priority goes lowest index first, so
  // had the aborted reads (pieces 0 to the end) kept theirs, piece 0 onwards would come too.
  const verified: number[] = []
  archive.on('progress', (p) => verified.push(Math.round(p * meta.pieceCount)))
  await reader.lookup(torrent, { peers: [addressOf(seeder)] })
  const last = meta.pieceCount - 1
  const stream2 = archive.createReadStream('/data.bin', { start: last * piece, end: last * piece })
  for await (const chunk of stream2) assert.equal((chunk as Buffer).length, 1)
  assert.deepEqual(verified, [1])
  assert.equal(Math.round(archive.progress * meta.pieceCount), 1)
})
