import type { FileEntry } from '../metainfo/types.js'
import { HASH_SIZE, nextPow2, pieceLayerIndex, treeHeight, treeLayers, buildProof, filePieceCount, zeroHash } from '../metainfo/merkle.js'
import { isWellFormedRange, type HashMessage, type HashRange } from '../wire/hash-messages.js'

/**
 * Hash requests each peer may have answered per minute. A downloader asks a file's piece layer in
 * batches (libtorrent: 512 hashes), so a 1 TiB file of 4 MiB pieces is 512 requests; a minute is
 * enough to serve the largest torrent at that rate, and past it a flood costs us nothing but the
 * hash rejects.
 */
export const HASH_REQUEST_BUDGET = 512
const WINDOW_MS = 60_000

/** What a hash server needs of a torrent: its files' roots and, for each, the piece layer. */
export interface HashSource {
  pieceLength: number
  files: readonly FileEntry[]
  /** Piece layers by hex root, as a .torrent carries them (or as we built them when seeding). */
  pieceLayers?: ReadonlyMap<string, Buffer>
}

interface Tree {
  /** Layers from the piece layer (index 0) up to the root. */
  layers: Buffer[]
  /** Layer number of `layers[0]`. */
  base: number
  /** Layer number of the root. */
  height: number
}

/**
 * Answers BEP52 hash requests from the piece layers we hold: `length` hashes of the asked layer
 * from `index` (past the file's end, the zero subtrees the tree is padded with), then the uncles of
 * the subtree they span, at most `proofLayers`, stopping below the root. Everything else (a root
 * we do not know, a layer below the piece layer, a range past the tree, a peer over its budget)
 * is a hash reject, as BEP52 asks; the peer is not dropped for asking.
 */
export class HashServer<P extends object> {
  private readonly trees = new Map<string, Tree | null>()
  private readonly budgets = new WeakMap<P, { start: number, used: number }>()
  /** Files by hex root, built at the first request: a search per request of a 100,000-file torrent is a peer's CPU lever. */
  private byRoot: Map<string, HashSource['files'][number]> | null = null

  constructor (private readonly source: HashSource) {}

  answer (peer: P, req: HashRange, now = Date.now()): HashMessage {
    const range: HashRange = { root: req.root, baseLayer: req.baseLayer, index: req.index, length: req.length, proofLayers: req.proofLayers }
    const reject: HashMessage = { type: 'hash-reject', ...range }
    if (!this.spend(peer, now) || !isWellFormedRange(req)) return reject
    const tree = this.tree(req.root)
    if (tree === null || req.baseLayer < tree.base || req.baseLayer > tree.height) return reject
    const width = 2 ** (tree.height - req.baseLayer)
    if (req.index + req.length > width) return reject
    const nodes = tree.layers[req.baseLayer - tree.base]!
    const hashes = Buffer.alloc(req.length * HASH_SIZE)
    const have = Math.max(0, Math.min(req.length, nodes.length / HASH_SIZE - req.index))
    if (have > 0) nodes.copy(hashes, 0, req.index * HASH_SIZE, (req.index + have) * HASH_SIZE)
    if (have < req.length) {
      // Beyond the file's last node the tree holds zero subtrees.
      const pad = zeroHash(req.baseLayer)
      for (let i = have; i < req.length; i++) pad.copy(hashes, i * HASH_SIZE)
    }
    const spanned = Math.log2(req.length)
    const top = req.baseLayer + spanned
    const uncles = Math.min(req.proofLayers, tree.height - top)
    const proof = uncles > 0 ? buildProof(tree.layers.slice(top - tree.base), req.index / req.length, top, uncles) : Buffer.alloc(0)
    return { type: 'hashes', ...range, hashes: Buffer.concat([hashes, proof]) }
  }

  private tree (root: Buffer): Tree | null {
    const key = root.toString('hex')
    let tree = this.trees.get(key)
    if (tree !== undefined) return tree
    tree = null
    this.byRoot ??= new Map(this.source.files.flatMap((f) => f.root !== undefined ? [[f.root.toString('hex'), f] as const] : []))
    const file = this.byRoot.get(key)
    const layer = this.source.pieceLayers?.get(key)
    if (file !== undefined && layer !== undefined) {
      const base = pieceLayerIndex(this.source.pieceLength)
      const pieces = filePieceCount(file.length, this.source.pieceLength)
      tree = { layers: treeLayers(layer, nextPow2(pieces), base), base, height: treeHeight(file.length) }
    }
    // Only roots of this torrent get here (byRoot), so the cache is bounded by its file count.
    if (file !== undefined) this.trees.set(key, tree)
    return tree
  }

  private spend (peer: P, now: number): boolean {
    let budget = this.budgets.get(peer)
    if (budget === undefined || now - budget.start >= WINDOW_MS) {
      budget = { start: now, used: 0 }
      this.budgets.set(peer, budget)
    }
    return ++budget.used <= HASH_REQUEST_BUDGET
  }
}
