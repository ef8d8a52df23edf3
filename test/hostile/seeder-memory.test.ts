import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import type { Frame } from '../../lib/wire/codec.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { startJsonChild } from '../helpers/json-child.js'
import { MiB, RawPeer } from './raw-peer.js'

const child = fileURLToPath(new URL('../helpers/seed-child.js', import.meta.url))
const SIZE = 256 * MiB
const PIECE = 16 * MiB
const PIECES = SIZE / PIECE
const BLOCK = 16 * 1024
const PEERS = 10
/** Issue 17's bound: what the seeder may reach with the peers above, whatever they ask. */
const RSS_LIMIT = 150 * MiB

test('ten peers asking one block of every 16 MiB piece keep the seeder under 150 MiB and get every block right', async (t) => {
  const dir = await tmpDir(t, 'tl-seeder-memory-')
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, SIZE)
  const data = await fs.open(file, 'r')
  t.after(() => data.close())
  const hashes: Buffer[] = []
  const chunk = Buffer.allocUnsafe(PIECE)
  for (let i = 0; i < PIECES; i++) {
    await data.read(chunk, 0, PIECE, i * PIECE)
    hashes.push(createHash('sha1').update(chunk).digest())
  }
  const meta = createMetainfo({ name: 'data.bin', files: layoutFiles([{ path: 'data.bin', length: SIZE }], PIECE), pieceLength: PIECE, pieceHashes: Buffer.concat(hashes), multiFile: false })
  const torrentFile = path.join(dir, 'data.torrent')
  await fs.writeFile(torrentFile, encodeTorrentFile(meta))

  const seeder = startJsonChild(t, 'seeder', process.execPath, [child, torrentFile, dir])
  const { port, rss } = await seeder.next<{ port: number, rss: number }>('port', 60_000)
  t.diagnostic(`seeder RSS after its scan: ${(rss / MiB).toFixed(0)} MiB`)

  /** One peer: interested, then once unchoked one block of every piece, each at its own offset
   *  so that no two peers share a block; resolves with the blocks that came back wrong. */
  const leech = async (k: number): Promise<string[]> => {
    const peer = await RawPeer.dial(port, { infoHash: meta.infoHash })
    t.after(() => peer.destroy())
    const blocks = new Map<number, Buffer>()
    const refused: string[] = []
    let done: () => void = () => {}
    const all = new Promise<void>((resolve) => { done = resolve })
    peer.onFrame((f: Frame) => {
      if (f.type === 'piece') blocks.set(f.index, f.block)
      if (f.type === 'reject') refused.push(`piece ${f.index} begin ${f.begin} rejected`)
      if (blocks.size + refused.length === PIECES) done()
    })
    const unchoked = peer.next((f) => f.type === 'unchoke', 25_000)
    peer.send({ type: 'interested' })
    await unchoked
    const beginOf = (i: number): number => ((k * PIECES + i) * 61 % (PIECE / BLOCK)) * BLOCK
    for (let i = 0; i < PIECES; i++) peer.send({ type: 'request', index: i, begin: beginOf(i), length: BLOCK })
    await Promise.race([all, peer.waitClosed(25_000).then(() => { throw new Error(`peer ${k} was dropped before its blocks came`) })])
    peer.send({ type: 'not-interested' })
    peer.destroy()
    const wrong = [...refused]
    const expected = Buffer.allocUnsafe(BLOCK)
    for (const [i, block] of blocks) {
      await data.read(expected, 0, BLOCK, i * PIECE + beginOf(i))
      if (!block.equals(expected)) wrong.push(`peer ${k}: block at ${beginOf(i)} of piece ${i} differs from the file`)
    }
    return wrong
  }
  const wrong = (await Promise.all(Array.from({ length: PEERS }, (_, k) => leech(k)))).flat()
  assert.deepEqual(wrong, [])

  seeder.send('rss')
  const { peakRss, peakRssServing } = await seeder.next<{ peakRss: number, peakRssServing: number }>('rss', 10_000)
  const mib = (n: number): string => `${(n / MiB).toFixed(0)} MiB`
  t.diagnostic(`seeder peak RSS: ${mib(peakRss)}, ${mib(peakRssServing)} since its scan`)
  assert.ok(peakRssServing < RSS_LIMIT, `the seeder peaked at ${mib(peakRssServing)} while serving ${PEERS} peers (limit ${mib(RSS_LIMIT)})`)
  assert.ok(peakRss < RSS_LIMIT, `the seeder peaked at ${mib(peakRss)} over its life, scan included (limit ${mib(RSS_LIMIT)})`)
})
