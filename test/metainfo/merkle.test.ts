import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import {
  BLOCK_SIZE, buildProof, FileMerkleHasher, HASH_SIZE, leafHashes, nextPow2, pieceLayerFromLeaves, pieceLayerIndex,
  rootFromLeaves, rootFromPieceLayer, treeHeight, treeLayers, verifyProof, zeroHash
} from '../../lib/metainfo/merkle.js'

const RUNS = { numRuns: 60, interruptAfterTimeLimit: 30_000 }

function h (...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256')
  for (const p of parts) hash.update(p)
  return hash.digest()
}

/** Data of `blocks` 16 KiB blocks plus `tail` bytes, each block distinct. */
function data (blocks: number, tail: number, seed = 1): Buffer {
  const out = Buffer.alloc(blocks * BLOCK_SIZE + tail)
  for (let i = 0; i < out.length; i += 4096) out[i] = (i / 4096 * 31 + seed) & 0xff
  return out
}

const fileShape = fc.record({
  blocks: fc.integer({ min: 0, max: 40 }),
  tail: fc.integer({ min: 0, max: BLOCK_SIZE - 1 }),
  pieceBlocks: fc.constantFrom(1, 2, 4, 8)
}).filter((s) => s.blocks + (s.tail > 0 ? 1 : 0) > 0)

test('a root follows BEP52 by hand: three blocks pad to four with zero leaves', () => {
  const bytes = data(2, 100)
  const [a, b, c] = [h(bytes.subarray(0, BLOCK_SIZE)), h(bytes.subarray(BLOCK_SIZE, 2 * BLOCK_SIZE)), h(bytes.subarray(2 * BLOCK_SIZE))]
  const expected = h(h(a, b), h(c, Buffer.alloc(32)))
  assert.deepEqual(rootFromLeaves(leafHashes(bytes)), expected)
  // One block: the root is the block's hash.
  assert.deepEqual(rootFromLeaves(leafHashes(Buffer.from('x'))), h(Buffer.from('x')))
  assert.equal(rootFromLeaves(Buffer.alloc(0)), undefined)
  assert.deepEqual(zeroHash(1), h(Buffer.alloc(32), Buffer.alloc(32)))
})

test('the piece layer pads with the hash of a zero piece subtree', () => {
  // Five blocks at two blocks a piece: three pieces, padded to four in the tree.
  const leaves = leafHashes(data(5, 0))
  const layer = pieceLayerFromLeaves(leaves, 2 * BLOCK_SIZE)
  assert.equal(layer.length, 3 * HASH_SIZE)
  const leaf = (i: number): Buffer => leaves.subarray(i * 32, i * 32 + 32)
  assert.deepEqual(layer.subarray(64, 96), h(leaf(4), Buffer.alloc(32)))
  assert.deepEqual(rootFromLeaves(leaves), h(h(layer.subarray(0, 32), layer.subarray(32, 64)), h(layer.subarray(64, 96), zeroHash(1))))
  // A file of one piece or less has no piece layer.
  assert.equal(pieceLayerFromLeaves(leafHashes(data(2, 0)), 2 * BLOCK_SIZE).length, 0)
})

test('property: the root from the leaves equals the root from the piece layer', () => {
  fc.assert(fc.property(fileShape, fc.integer({ min: 1, max: 3 * BLOCK_SIZE }), ({ blocks, tail, pieceBlocks }, chunk) => {
    const bytes = data(blocks, tail, blocks * 7 + tail)
    const pieceLength = pieceBlocks * BLOCK_SIZE
    const leaves = leafHashes(bytes)
    const root = rootFromLeaves(leaves)!
    const layer = pieceLayerFromLeaves(leaves, pieceLength)
    const pieces = Math.ceil(bytes.length / pieceLength)
    if (pieces > 1) assert.deepEqual(rootFromPieceLayer(layer, pieceLength, bytes.length), root)
    else assert.equal(layer.length, 0)
    // Streaming in chunks of any size (blocks whole, split, or both in one chunk) gives the same tree.
    const hasher = new FileMerkleHasher()
    for (let at = 0; at < bytes.length; at += chunk) hasher.update(bytes.subarray(at, at + chunk))
    const streamed = hasher.digest(pieceLength)
    assert.deepEqual(streamed.root, root)
    assert.deepEqual(streamed.pieceLayer, layer)
  }), RUNS)
})

test('property: every proof from the builder verifies, and any flipped byte fails', () => {
  fc.assert(fc.property(fileShape, fc.nat(), fc.nat(), ({ blocks, tail, pieceBlocks }, pick, flip) => {
    const bytes = data(blocks, tail, blocks * 3 + tail)
    const leaves = leafHashes(bytes)
    const count = leaves.length / HASH_SIZE
    const root = rootFromLeaves(leaves)!
    const layers = treeLayers(leaves, nextPow2(count))
    assert.equal(layers.length - 1, treeHeight(bytes.length))
    const index = pick % count
    const leaf = leaves.subarray(index * 32, index * 32 + 32)
    const proof = buildProof(layers, index)
    assert.ok(verifyProof(leaf, index, proof, root))
    // From the piece layer up: the proof of a piece hash against the same root.
    const pieceLength = pieceBlocks * BLOCK_SIZE
    const layer = pieceLayerFromLeaves(leaves, pieceLength)
    if (layer.length > 0) {
      const pieces = layer.length / 32
      const p = pick % pieces
      const base = pieceLayerIndex(pieceLength)
      const up = treeLayers(layer, nextPow2(pieces), base)
      assert.ok(verifyProof(layer.subarray(p * 32, p * 32 + 32), p, buildProof(up, p, base), root))
    }
    // Any flipped bit in the leaf, the proof or the root fails; so does a wrong index.
    const all = Buffer.concat([leaf, proof, root])
    const at = flip % all.length
    all[at]! ^= 1 << (flip % 8)
    const l2 = all.subarray(0, 32)
    const p2 = all.subarray(32, 32 + proof.length)
    const r2 = all.subarray(32 + proof.length)
    assert.ok(!verifyProof(l2, index, p2, r2))
    if (count > 1) assert.ok(!verifyProof(leaf, index ^ 1, proof, root) || leaf.equals(leaves.subarray((index ^ 1) * 32, (index ^ 1) * 32 + 32)))
  }), RUNS)
})

test('verifyProof refuses malformed input rather than throwing', () => {
  const root = Buffer.alloc(32, 1)
  assert.equal(verifyProof(Buffer.alloc(31), 0, Buffer.alloc(0), root), false)
  assert.equal(verifyProof(Buffer.alloc(32), 0, Buffer.alloc(33), root), false)
  assert.equal(verifyProof(Buffer.alloc(32), 2, Buffer.alloc(32), root), false)
  assert.equal(verifyProof(Buffer.alloc(32), -1, Buffer.alloc(32), root), false)
})
