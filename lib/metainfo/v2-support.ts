import { fail } from '../errors.js'
import type { MagnetLink, Metainfo } from './types.js'

const ADVICE = 'ask for a hybrid or v1 torrent (libtorrent creates hybrids by default) or its magnet link with xt=urn:btih:'

/**
 * Downloading needs SHA-1 piece hashes until the BEP52 wire (hash requests, verification against
 * piece layers) exists: a v2-only torrent is refused with a stable code rather than opened and
 * left unverifiable. Hybrid torrents download over the v1 wire.
 */
export function refuseV2Only (meta: Metainfo): void {
  if (meta.version === 2) fail('EUNSUPPORTED', `${JSON.stringify(meta.name)} is a BitTorrent v2-only torrent, which this version cannot download yet; ${ADVICE}`)
}

/** The same for a magnet link that names a torrent only by its v2 infohash (`xt=urn:btmh:`). */
export function refuseV2OnlyMagnet (link: MagnetLink): void {
  if (link.infoHash === undefined && link.publicKey === undefined && link.infoHashV2 !== undefined) {
    fail('EUNSUPPORTED', `the magnet link names its torrent only by a BitTorrent v2 infohash (xt=urn:btmh:), which this version cannot download yet; ${ADVICE}`)
  }
}
