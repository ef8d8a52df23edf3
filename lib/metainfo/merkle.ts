import { createHash, type Hash } from 'node:crypto'

/**
 * BEP52 merkle trees. Each file of a v2 torrent has its own binary SHA-256 tree whose leaves hash
 * 16 KiB blocks of the file (the last block may be shorter and is hashed as it is). The leaf count
 * is padded to a power of two with leaves of 32 zero bytes; a node is SHA-256(left || right).
 *
 * Layers are numbered from the leaves: layer 0 holds block hashes, layer L holds hashes of 2^L
 * blocks. The "piece layer" is layer log2(pieceLength / 16 KiB): one hash per piece, padded (in
 * the tree, never in the .torrent) with the hash of a zero subtree of that height.
 */

export const BLOCK_SIZE = 16 * 1024
export const HASH_SIZE = 32

export function sha256 (data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

/** SHA-256(left || right). */
export function hashPair (left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(left).update(right).digest()
}

const zeros: Buffer[] = [Buffer.alloc(HASH_SIZE)]

/** The hash of a subtree whose 2^layer leaves are all pad leaves (32 zero bytes). */
export function zeroHash (layer: number): Buffer {
  while (zeros.length <= layer) zeros.push(hashPair(zeros[zeros.length - 1]!, zeros[zeros.length - 1]!))
  return zeros[layer]!
}

/** Smallest power of two >= n (1 for n <= 1). */
export function nextPow2 (n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

function log2 (n: number): number {
  return Math.round(Math.log2(n))
}

/** True for the piece lengths v2 allows: a power of two of at least 16 KiB. */
export function isV2PieceLength (pieceLength: number): boolean {
  return Number.isSafeInteger(pieceLength) && pieceLength >= BLOCK_SIZE && (pieceLength & (pieceLength - 1)) === 0
}

/** The layer of the tree that holds one hash per piece. */
export function pieceLayerIndex (pieceLength: number): number {
  return log2(pieceLength / BLOCK_SIZE)
}

/** Number of 16 KiB blocks of a file of `length` bytes. */
export function blockCount (length: number): number {
  return Math.ceil(length / BLOCK_SIZE)
}

/** Concatenated leaf hashes of `data`, one per 16 KiB block. */
export function leafHashes (data: Uint8Array): Buffer {
  const count = blockCount(data.length)
  const out = Buffer.alloc(count * HASH_SIZE)
  for (let i = 0; i < count; i++) {
    sha256(data.subarray(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE)).copy(out, i * HASH_SIZE)
  }
  return out
}

/**
 * Hashes one layer up: `nodes` (concatenated 32-byte hashes) of layer `layer` give layer + 1.
 * A missing right sibling is the zero subtree of that layer.
 */
export function parentLayer (nodes: Buffer, layer: number): Buffer {
  const count = nodes.length / HASH_SIZE
  const out = Buffer.alloc(Math.ceil(count / 2) * HASH_SIZE)
  for (let i = 0; i < count; i += 2) {
    const left = nodes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)
    const right = i + 1 < count ? nodes.subarray((i + 1) * HASH_SIZE, (i + 2) * HASH_SIZE) : zeroHash(layer)
    hashPair(left, right).copy(out, (i / 2) * HASH_SIZE)
  }
  return out
}

/**
 * All layers from `nodes` (at `layer`) up to the root of a tree of `width` nodes at that layer
 * (`width` a power of two >= the node count). Element 0 is `nodes`, the last is the 32-byte root.
 * Nodes beyond the given ones are zero subtrees and are not stored.
 */
export function treeLayers (nodes: Buffer, width: number, layer = 0): Buffer[] {
  const layers = [nodes]
  let current = nodes
  let l = layer
  for (let w = width; w > 1; w /= 2, l++) {
    current = current.length === 0 ? Buffer.alloc(0) : parentLayer(current, l)
    layers.push(current)
  }
  if (current.length === 0) layers[layers.length - 1] = Buffer.from(zeroHash(l))
  return layers
}

/** The root over `nodes` at `layer`, padded to `width` nodes. */
export function rootOf (nodes: Buffer, width: number, layer = 0): Buffer {
  const layers = treeLayers(nodes, width, layer)
  return layers[layers.length - 1]!.subarray(0, HASH_SIZE)
}

/** A file's merkle root from its leaf hashes; undefined for an empty file (it has none). */
export function rootFromLeaves (leaves: Buffer): Buffer | undefined {
  const count = leaves.length / HASH_SIZE
  if (count === 0) return undefined
  return rootOf(leaves, nextPow2(count))
}

/**
 * The piece layer of a file from its leaf hashes: one hash per piece, the last piece's subtree
 * padded with pad leaves. Empty for a file of at most one piece: BEP52 stores no layer for it,
 * since its root is its only piece hash.
 */
export function pieceLayerFromLeaves (leaves: Buffer, pieceLength: number): Buffer {
  const perPiece = pieceLength / BLOCK_SIZE
  const count = leaves.length / HASH_SIZE
  if (count <= perPiece) return Buffer.alloc(0)
  const pieces = Math.ceil(count / perPiece)
  const out = Buffer.alloc(pieces * HASH_SIZE)
  for (let p = 0; p < pieces; p++) {
    const slice = leaves.subarray(p * perPiece * HASH_SIZE, Math.min(count, (p + 1) * perPiece) * HASH_SIZE)
    rootOf(slice, perPiece).copy(out, p * HASH_SIZE)
  }
  return out
}

/** How many pieces a file of `length` bytes spans (each v2 file starts a piece). */
export function filePieceCount (length: number, pieceLength: number): number {
  return Math.ceil(length / pieceLength)
}

/**
 * The root a piece layer gives for a file of `length` bytes, padded to a power of two of pieces
 * with zero subtrees of piece height. A parser compares it with the file's `pieces root`.
 */
export function rootFromPieceLayer (layer: Buffer, pieceLength: number, length: number): Buffer {
  const pieces = filePieceCount(length, pieceLength)
  if (layer.length !== pieces * HASH_SIZE) throw new RangeError(`a piece layer of ${pieces} pieces is ${pieces * HASH_SIZE} bytes, got ${layer.length}`)
  return rootOf(layer, nextPow2(pieces), pieceLayerIndex(pieceLength))
}

/**
 * The uncle hashes that lead from node `index` of `layers[0]` to the root, bottom up: what a peer
 * sends with a hash (BEP52 `hashes` message) and what `verifyProof` checks. `layers` is as
 * `treeLayers` returns it; `baseLayer` is the layer number of `layers[0]` (for zero padding).
 * `levels` limits the proof to that many uncles (a peer may omit those the receiver has).
 */
export function buildProof (layers: readonly Buffer[], index: number, baseLayer = 0, levels = layers.length - 1): Buffer {
  const out = Buffer.alloc(levels * HASH_SIZE)
  let at = index
  for (let l = 0; l < levels; l++) {
    const sibling = at ^ 1
    const nodes = layers[l]!
    const uncle = (sibling + 1) * HASH_SIZE <= nodes.length
      ? nodes.subarray(sibling * HASH_SIZE, (sibling + 1) * HASH_SIZE)
      : zeroHash(baseLayer + l)
    uncle.copy(out, l * HASH_SIZE)
    at >>= 1
  }
  return out
}

/**
 * Climbs from `hash`, node `index` of its layer, through `proof` (concatenated 32-byte uncle
 * hashes, bottom up) and returns the hash reached. `index` must fit below the proof's height.
 */
export function climbProof (hash: Uint8Array, index: number, proof: Uint8Array): Buffer {
  if (proof.length % HASH_SIZE !== 0) throw new RangeError(`a proof is whole 32-byte hashes, got ${proof.length} bytes`)
  let node: Buffer = Buffer.from(hash)
  let at = index
  for (let off = 0; off < proof.length; off += HASH_SIZE) {
    const uncle = proof.subarray(off, off + HASH_SIZE)
    node = (at & 1) === 0 ? hashPair(node, uncle) : hashPair(uncle, node)
    at = Math.floor(at / 2)
  }
  return node
}

/**
 * True when `hash` is node `index` of its layer in the tree whose root is `root`, as shown by
 * `proof` (uncle hashes bottom up, one per layer from the node's up to just below the root). The
 * node's layer does not enter the computation: it is implied by the proof length, which the
 * caller must check against the file's tree height (`treeHeight(...) - layer`), else a proof of a
 * piece hash could pass for a block hash.
 */
export function verifyProof (hash: Uint8Array, index: number, proof: Uint8Array, root: Uint8Array): boolean {
  if (hash.length !== HASH_SIZE || root.length !== HASH_SIZE || proof.length % HASH_SIZE !== 0) return false
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** (proof.length / HASH_SIZE)) return false
  return climbProof(hash, index, proof).equals(root)
}

/** Layers from the leaves to the root of the tree of a file of `length` bytes (0 for one block). */
export function treeHeight (length: number): number {
  return log2(nextPow2(blockCount(length)))
}

/**
 * Hashes a file fed in chunks of any size into leaf hashes, so a file is read once however it is
 * cut. `digest` returns the leaves, the root and the piece layer.
 */
export class FileMerkleHasher {
  private readonly leaves: Buffer[] = []
  /** The block being filled, hashed as it comes: no 16 KiB buffer per file (seeding 1,000 small
   *  archives at once made 16 MiB of them, and glibc kept the holes they left). */
  private partial: Hash | null = null
  private inBlock = 0

  update (chunk: Uint8Array): void {
    let at = 0
    while (at < chunk.length) {
      if (this.inBlock === 0 && chunk.length - at >= BLOCK_SIZE) {
        this.leaves.push(sha256(chunk.subarray(at, at + BLOCK_SIZE)))
        at += BLOCK_SIZE
        continue
      }
      const take = Math.min(chunk.length - at, BLOCK_SIZE - this.inBlock)
      this.partial ??= createHash('sha256')
      this.partial.update(chunk.subarray(at, at + take))
      this.inBlock += take
      at += take
      if (this.inBlock === BLOCK_SIZE) this.endBlock()
    }
  }

  private endBlock (): void {
    this.leaves.push(this.partial!.digest())
    this.partial = null
    this.inBlock = 0
  }

  digest (pieceLength: number): { leaves: Buffer, root: Buffer | undefined, pieceLayer: Buffer } {
    if (this.inBlock > 0) this.endBlock()
    const leaves = Buffer.concat(this.leaves)
    return { leaves, root: rootFromLeaves(leaves), pieceLayer: pieceLayerFromLeaves(leaves, pieceLength) }
  }
}
