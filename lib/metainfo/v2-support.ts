import { fail } from '../errors.js'
import { filePieceCount } from './merkle.js'
import type { Metainfo } from './types.js'

const ADVICE = 'ask for a hybrid or v1 torrent (libtorrent creates hybrids by default) or its magnet link with xt=urn:btih:'

/** True when a v2-only torrent lacks the piece layer of some file of more than one piece. */
export function missingPieceLayers (meta: Metainfo): boolean {
  if (meta.version !== 2) return false
  return meta.files.some((f) => !f.pad && f.root !== undefined && filePieceCount(f.length, meta.pieceLength) > 1 &&
    meta.pieceLayers?.has(f.root.toString('hex')) !== true)
}

/**
 * A v2-only torrent has no SHA-1 piece hashes: its pieces are verified against its piece layers
 * (and one-piece files against their roots). Without a layer for every file of more than one
 * piece some pieces could never be verified, so it is refused with a stable code rather than
 * opened and left stuck. Hybrid torrents download over the v1 wire.
 */
export function refuseV2Only (meta: Metainfo): void {
  if (missingPieceLayers(meta)) fail('EUNSUPPORTED', `${JSON.stringify(meta.name)} is a BitTorrent v2-only torrent without its piece layers, which this version cannot download yet; use its .torrent file, or ${ADVICE}`)
}
