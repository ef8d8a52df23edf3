import type { FileEntry, Metainfo } from '../metainfo/types.js'
import { HASH_SIZE, climbProof, filePieceCount, nextPow2, pieceLayerIndex, rootOf, treeHeight } from '../metainfo/merkle.js'
import type { HashRange } from '../wire/hash-messages.js'

/** Piece hashes asked per hash request: libtorrent's batch, and what its server answers at once. */
export const LAYER_BATCH = 512

/** A file of more than one piece: BEP52 keeps its piece layer outside the info dictionary. */
export function hasLayer (file: FileEntry, pieceLength: number): file is FileEntry & { root: Buffer } {
  return file.root !== undefined && filePieceCount(file.length, pieceLength) > 1
}

/** A v2-only torrent (from BEP9) missing the piece layer of a file: it cannot be verified yet. */
export function needsPieceLayers (meta: Metainfo): boolean {
  return meta.version === 2 && meta.files.some((f) => hasLayer(f, meta.pieceLength) && meta.pieceLayers?.has(f.root.toString('hex')) !== true)
}

/**
 * The hash requests that fetch a file's whole piece layer: aligned runs of LAYER_BATCH hashes
 * (the whole padded layer when it is shorter), each with the uncles from the run's subtree up to
 * just below the root, so that every answer is checked against the root alone, whatever order
 * the answers come in.
 */
export function layerRequests (root: Buffer, length: number, pieceLength: number): HashRange[] {
  const pieces = filePieceCount(length, pieceLength)
  const base = pieceLayerIndex(pieceLength)
  const run = Math.min(LAYER_BATCH, nextPow2(pieces))
  // libtorrent counts proof layers from the base layer and refuses more than reach just below
  // the root (unclesOf); for this value its server and ours both send the uncles up to the root.
  const proofLayers = treeHeight(length) - base - 1
  const out: HashRange[] = []
  for (let index = 0; index < pieces; index += run) out.push({ root, baseLayer: base, index, length: run, proofLayers })
  return out
}

/**
 * The piece hashes an answer to `req` proves, those of the file's pieces only (the run's tail
 * past the last piece is zero padding); null when the answer does not climb to the root: wrong
 * hashes, wrong uncles, or not exactly the uncles asked. `hashes` is the `hashes` message's
 * payload: the run, then the uncles bottom up.
 */
export function provenHashes (req: HashRange, hashes: Buffer, length: number, pieceLength: number): Buffer | null {
  if (hashes.length !== (req.length + unclesOf(req)) * HASH_SIZE) return null
  const run = hashes.subarray(0, req.length * HASH_SIZE)
  const top = rootOf(run, req.length, req.baseLayer)
  if (!climbProof(top, req.index / req.length, hashes.subarray(run.length)).equals(req.root)) return null
  const pieces = filePieceCount(length, pieceLength)
  return run.subarray(0, Math.min(req.length, pieces - req.index) * HASH_SIZE)
}

/**
 * The uncle hashes an answer to one of our requests carries, as libtorrent 2.0.8 counts them:
 * proof layers are counted from the base layer, and the run's subtree covers log2(length) - 1 of
 * them (measured: 512 hashes with proof layers 10 come with 2 uncles, with 2 with none).
 */
export function unclesOf (req: HashRange): number {
  return Math.max(0, req.proofLayers + 1 - Math.log2(req.length))
}
