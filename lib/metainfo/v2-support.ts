import { fail } from '../errors.js'
import type { Metainfo } from './types.js'

const ADVICE = 'ask for a hybrid or v1 torrent (libtorrent creates hybrids by default) or its magnet link with xt=urn:btih:'

/**
 * Downloading needs SHA-1 piece hashes until the BEP52 wire (hash requests, verification against
 * piece layers) exists: a v2-only torrent is refused with a stable code rather than opened and
 * left unverifiable. Hybrid torrents download over the v1 wire.
 */
export function refuseV2Only (meta: Metainfo): void {
  if (meta.version === 2) fail('EUNSUPPORTED', `${JSON.stringify(meta.name)} is a BitTorrent v2-only torrent, which this version cannot download yet; ${ADVICE}`)
}
