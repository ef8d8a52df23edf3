import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import RandomAccessMemory from 'random-access-memory'
import { createMetainfo, layoutFiles } from '../../lib/metainfo/create.js'
import { BLOCK_SIZE, leafHashes, pieceLayerFromLeaves, rootFromLeaves } from '../../lib/metainfo/merkle.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { V2Pieces } from '../../lib/storage/hash-v2.js'
import { TorrentStorage } from '../../lib/storage/torrent-storage.js'

function bytes (length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + (i >> 10)) & 0xff
  return out
}

const PIECE = 4 * BLOCK_SIZE
// Multi-piece files with a short last piece (and one ending inside a block), a file of exactly one
// piece, one smaller than a block, an empty one.
const CONTENT = new Map<string, Buffer>([
  ['a', bytes(2 * PIECE + BLOCK_SIZE + 5, 1)],
  ['b', bytes(PIECE, 2)],
  ['c', bytes(100, 3)],
  ['d', Buffer.alloc(0)],
  ['e', bytes(3 * PIECE + 2 * BLOCK_SIZE, 4)],
  ['f', bytes(PIECE + 1, 5)]
])

/** A v2-only torrent of `content` with pieces of 4 blocks (seed() would pick 16 KiB for so little). */
async function build (content = CONTENT): Promise<Metainfo> {
  const files = layoutFiles([...content].map(([path, data]) => ({ path, length: data.length })), PIECE, { padToPieces: true, treeOrder: true })
  const pieceLayers = new Map<string, Buffer>()
  for (const f of files) {
    if (f.pad || f.length === 0) continue
    const leaves = leafHashes(content.get(f.path)!)
    f.root = rootFromLeaves(leaves)!
    const layer = pieceLayerFromLeaves(leaves, PIECE)
    if (layer.length > 0) pieceLayers.set(f.root.toString('hex'), layer)
  }
  return createMetainfo({ name: 't', files, pieceLength: PIECE, pieceHashes: Buffer.alloc(0), multiFile: true, version: 2, pieceLayers })
}

/** The torrent's bytes as peers send them: files at piece starts, zeros between and after. */
function torrentBytes (meta: Metainfo, content = CONTENT): Buffer {
  const out = Buffer.alloc(meta.length)
  for (const f of meta.files) if (!f.pad) content.get(f.path)!.copy(out, f.offset)
  return out
}

function piece (all: Buffer, meta: Metainfo, i: number): Buffer {
  return Buffer.from(all.subarray(i * meta.pieceLength, (i + 1) * meta.pieceLength))
}

test('v2 layout: every file starts a piece, the last piece is whole (tail padded), files of one piece or less take one piece, empty files none', async () => {
  const meta = await build()
  assert.equal(meta.length % PIECE, 0, 'the tail is padded to a whole piece, as libtorrent asks it')
  assert.equal(meta.pieceCount, 3 + 1 + 1 + 0 + 4 + 2)
  const last = meta.files[meta.files.length - 1]!
  assert.equal(last.pad, true)
  assert.equal(last.offset + last.length, meta.length)
  for (const f of meta.files) if (!f.pad && f.length > 0) assert.equal(f.offset % PIECE, 0, f.path)
})

test('v2 verification: every intact piece matches; a file of one piece or less is checked against its root', async () => {
  const meta = await build()
  const v2 = new V2Pieces(meta, meta.pieceLayers!)
  const all = torrentBytes(meta)
  for (let i = 0; i < meta.pieceCount; i++) assert.equal(v2.matches(i, piece(all, meta, i)), true, `piece ${i}`)
  const c = meta.files.find((f) => f.path === 'c')!
  const target = v2.target(c.offset / PIECE)!
  assert.deepEqual(target.expected, rootFromLeaves(leafHashes(CONTENT.get('c')!)))
  assert.deepEqual(target, { expected: c.root, bytes: 100, width: 1 })
  assert.equal(v2.target(meta.files.find((f) => f.path === 'b')!.offset / PIECE)!.width, 4)
  // The last piece of 'a' holds one block and 5 bytes: its subtree is padded to the piece's 4 leaves.
  assert.deepEqual(v2.target(2), { expected: meta.pieceLayers!.get(meta.files[0]!.root!.toString('hex'))!.subarray(64, 96), bytes: BLOCK_SIZE + 5, width: 4 })
  // Wrong length, out of range: never a match.
  assert.equal(v2.matches(0, piece(all, meta, 0).subarray(1)), false)
  assert.equal(v2.matches(meta.pieceCount, Buffer.alloc(PIECE)), false)
})

test('v2 verification: a piece of a file whose layer is missing never matches', async () => {
  const meta = await build()
  const v2 = new V2Pieces(meta, new Map())
  const all = torrentBytes(meta)
  assert.equal(v2.matches(0, piece(all, meta, 0)), false)
  const b = meta.files.find((f) => f.path === 'b')!
  assert.equal(v2.matches(b.offset / PIECE, piece(all, meta, b.offset / PIECE)), true, 'a one-piece file needs no layer')
})

test('v2 verification (property): a byte changed anywhere in a file fails its piece only; padding is not hashed', async () => {
  const meta = await build()
  const v2 = new V2Pieces(meta, meta.pieceLayers!)
  const all = torrentBytes(meta)
  const stored = meta.files.filter((f) => !f.pad && f.length > 0)
  fc.assert(fc.property(fc.nat(stored.length - 1), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 1, max: 255 }), (fileIndex, where, xor) => {
    const file = stored[fileIndex]!
    const at = file.offset + Math.floor(where * file.length)
    const bad = Buffer.from(all)
    bad[at] = bad[at]! ^ xor
    const hit = Math.floor(at / PIECE)
    for (let i = 0; i < meta.pieceCount; i++) {
      if (v2.matches(i, piece(bad, meta, i)) !== (i !== hit)) return false
    }
    return true
  }), { numRuns: 200 })
  // A byte of padding (between files or at the tail) changes nothing: it is never stored.
  const pads = meta.files.filter((f) => f.pad)
  assert.ok(pads.length >= 2)
  for (const pad of pads) {
    const bad = Buffer.from(all)
    bad[pad.offset + pad.length - 1] = bad[pad.offset + pad.length - 1]! ^ 1
    const i = Math.floor(pad.offset / PIECE)
    assert.equal(v2.matches(i, piece(bad, meta, i)), true)
  }
})

test('v2 verification fed in chunks of any size agrees with the whole piece', async () => {
  const meta = await build()
  const v2 = new V2Pieces(meta, meta.pieceLayers!)
  const all = torrentBytes(meta)
  fc.assert(fc.property(fc.nat(meta.pieceCount - 1), fc.array(fc.integer({ min: 1, max: PIECE }), { minLength: 1, maxLength: 8 }), (i, cuts) => {
    const data = piece(all, meta, i)
    const hasher = v2.hasher(i)!
    let at = 0
    for (const cut of cuts) { hasher.update(data.subarray(at, at + cut)); at += cut }
    hasher.update(data.subarray(at))
    return hasher.matches()
  }), { numRuns: 100 })
})

test('TorrentStorage of a v2-only torrent verifies and scans by piece layers', async () => {
  const meta = await build()
  const all = torrentBytes(meta)
  const disk = new Map<string, RandomAccessMemory>()
  const storage = new TorrentStorage({ layout: meta, name: 't', multiFile: true, pieceHashes: null, pieceLayers: meta.pieceLayers!, factory: (p) => { const f = new RandomAccessMemory(); disk.set(p, f); return f } })
  assert.equal(storage.hasHashes(), true)
  for (let i = 0; i < meta.pieceCount; i++) {
    assert.equal(await storage.verify(i, piece(all, meta, i)), true)
    if (i !== 1) await storage.writePiece(i, piece(all, meta, i))
  }
  const have = await storage.scan()
  for (let i = 0; i < meta.pieceCount; i++) assert.equal(have.get(i), i !== 1, `piece ${i}`)
  assert.deepEqual(await storage.read(meta.pieceCount - 1, 0, PIECE), piece(all, meta, meta.pieceCount - 1), 'the padded tail reads as zeros')
  await storage.close()
})
