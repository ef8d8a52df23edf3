import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { HASH_SIZE, leafHashes, pieceLayerFromLeaves, rootFromLeaves, verifyProof, rootOf, zeroHash } from '../../lib/metainfo/merkle.js'
import type { FileEntry } from '../../lib/metainfo/types.js'
import { HASH_REQUEST_BUDGET, HashServer } from '../../lib/swarm/hash-server.js'
import type { HashRange } from '../../lib/wire/hash-messages.js'

const PIECE = 32 * 1024
/** Five pieces and a bit: a tree of 8 piece nodes (layer 1) whose last two are padding. */
const data = randomBytes(5 * PIECE + 1000)
const leaves = leafHashes(data)
const layer = pieceLayerFromLeaves(leaves, PIECE)
const root = rootFromLeaves(leaves)!
const small = randomBytes(1000)
const smallRoot = rootFromLeaves(leafHashes(small))!
const files: FileEntry[] = [
  { path: 'big', length: data.length, offset: 0, pad: false, attr: '', root },
  { path: 'small', length: small.length, offset: 6 * PIECE, pad: false, attr: '', root: smallRoot }
]

function server (): HashServer<object> {
  return new HashServer({ pieceLength: PIECE, files, pieceLayers: new Map([[root.toString('hex'), layer]]) })
}

const ask = (r: Partial<HashRange> = {}): HashRange => ({ root, baseLayer: 1, index: 0, length: 8, proofLayers: 0, ...r })

describe('serving BEP52 hash requests', () => {
  it('sends the whole piece layer, padded with zero subtrees to the tree width, which hashes to the root', () => {
    const answer = server().answer({}, ask({ proofLayers: 5 }))
    assert.equal(answer.type, 'hashes')
    if (answer.type !== 'hashes') return
    assert.equal(answer.hashes.length, 8 * HASH_SIZE, 'the range spans the whole tree: no uncles')
    assert.deepEqual(answer.hashes.subarray(0, 6 * HASH_SIZE), layer)
    assert.deepEqual(answer.hashes.subarray(6 * HASH_SIZE, 7 * HASH_SIZE), zeroHash(1))
    assert.deepEqual(rootOf(answer.hashes, 8, 1), root)
  })

  it('sends part of a layer with the uncles that prove it up to the root', () => {
    const answer = server().answer({}, ask({ index: 4, length: 2, proofLayers: 10 }))
    assert.equal(answer.type, 'hashes')
    if (answer.type !== 'hashes') return
    assert.equal(answer.hashes.length, (2 + 2) * HASH_SIZE, 'two hashes, then one uncle per layer from their parent below the root')
    const subtree = rootOf(answer.hashes.subarray(0, 2 * HASH_SIZE), 2, 1)
    assert.ok(verifyProof(subtree, 2, answer.hashes.subarray(2 * HASH_SIZE), root))
    const fewer = server().answer({}, ask({ index: 4, length: 2, proofLayers: 1 }))
    assert.equal(fewer.type === 'hashes' && fewer.hashes.length, 3 * HASH_SIZE, 'no more uncles than asked')
  })

  it('rejects what it cannot serve: an unknown root, a file without a piece layer, a layer below it, a range past the tree, a malformed range', () => {
    for (const r of [
      ask({ root: Buffer.alloc(32, 9) }),
      ask({ root: smallRoot, baseLayer: 0, length: 1 }),
      ask({ baseLayer: 0, length: 2 }),
      ask({ index: 8, length: 8 }),
      ask({ baseLayer: 4, length: 2 }),
      ask({ baseLayer: 5, length: 1 }),
      ask({ length: 6 }),
      ask({ index: 2, length: 4 }),
      ask({ length: 0 })
    ]) {
      const answer = server().answer({}, r)
      assert.equal(answer.type, 'hash-reject', JSON.stringify({ ...r, root: r.root.toString('hex').slice(0, 8) }))
      assert.deepEqual({ ...answer, type: 'hash-request' }, { type: 'hash-request', ...r })
    }
  })

  it('answers each peer at most its budget of requests a minute, then rejects, and another peer is not affected', () => {
    const s = server()
    const flooder = {}
    const now = 1_000_000
    for (let i = 0; i < HASH_REQUEST_BUDGET; i++) assert.equal(s.answer(flooder, ask(), now).type, 'hashes')
    assert.equal(s.answer(flooder, ask(), now).type, 'hash-reject')
    assert.equal(s.answer({}, ask(), now).type, 'hashes')
    assert.equal(s.answer(flooder, ask(), now + 60_000).type, 'hashes', 'a new minute, a new budget')
  })
})
