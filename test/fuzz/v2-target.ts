/** Fuzz targets for BEP52 metainfo: hybrid .torrent files (file tree, piece layers) and v2 info. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import { leafHashes, pieceLayerFromLeaves, rootFromLeaves, rootFromPieceLayer } from '../../lib/metainfo/merkle.js'
import { parseInfo, parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo, MetainfoVersion } from '../../lib/metainfo/types.js'
import { bencodeBytes, onlyFails } from './inputs.js'
import { syncTarget, type FuzzTarget } from './targets.js'

const PIECE = 16 * 1024

function sample (version: MetainfoVersion): Metainfo {
  const sizes = new Map([['dir/a.bin', 40_000], ['dir/b', 20_000], ['c', 0], ['d', 7]])
  const files = layoutFiles([...sizes].map(([path, length]) => ({ path, length })), PIECE, { padToPieces: true, treeOrder: true })
  const pieceLayers = new Map<string, Buffer>()
  const data: Buffer[] = []
  for (const file of files) {
    const bytes = Buffer.alloc(file.length, file.pad ? 0 : file.path.length)
    data.push(bytes)
    if (file.pad || file.length === 0) continue
    const leaves = leafHashes(bytes)
    file.root = rootFromLeaves(leaves)!
    const layer = pieceLayerFromLeaves(leaves, PIECE)
    if (layer.length > 0) pieceLayers.set(file.root.toString('hex'), layer)
  }
  const all = Buffer.concat(data)
  const hashes: Buffer[] = []
  for (let at = 0; at < all.length; at += PIECE) hashes.push(createHash('sha1').update(all.subarray(at, at + PIECE)).digest())
  return createMetainfo({ name: 'v2sample', files, pieceLength: PIECE, pieceHashes: Buffer.concat(hashes), multiFile: true, version, pieceLayers })
}

/** What a parsed v2 or hybrid torrent promises: files laid out in order, each non-empty one on a
 *  piece boundary with a 32-byte root, and every piece layer hashing to its root. */
function checkV2 (meta: Metainfo): void {
  let offset = 0
  for (const file of meta.files) {
    assert.equal(file.offset, offset)
    assert.ok(file.path.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\0') && !s.includes('\\')))
    if (meta.version !== 1 && !file.pad && file.length > 0) {
      assert.equal(file.offset % meta.pieceLength, 0)
      assert.equal(file.root?.length, 32)
    }
    offset += file.length
  }
  assert.equal(meta.length, offset)
  assert.equal(meta.pieceHashes.length, meta.version === 2 ? 0 : meta.pieceCount * 20)
  for (const [hex, layer] of meta.pieceLayers ?? []) {
    const file = meta.files.find((f) => f.root?.toString('hex') === hex)!
    assert.ok(rootFromPieceLayer(layer, meta.pieceLength, file.length).equals(file.root!))
  }
}

const HYBRID = sample('hybrid')
const V2 = sample(2)

export const v2Targets: FuzzTarget[] = [
  syncTarget('metainfo/parseTorrent v2 and hybrid', bencodeBytes([encodeTorrentFile(HYBRID), encodeTorrentFile(V2)]), (bytes) => {
    const meta = onlyFails(['EBADTORRENT'], () => parseTorrent(bytes))
    if (meta !== undefined) checkV2(meta)
  }),
  syncTarget('metainfo/parseInfo v2 and hybrid', bencodeBytes([HYBRID.info, V2.info]), (bytes) => {
    const meta = onlyFails(['EBADTORRENT'], () => parseInfo(bytes))
    if (meta !== undefined) checkV2(meta)
  })
]
