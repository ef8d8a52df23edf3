import { TrackerlessError } from '../errors.js'
import type { Peer } from './peer.js'
import { DEFAULT_LIMITS, type PeerLimits } from './connection-slots.js'

/** What eviction needs to know of a connection. */
export type EvictionCandidate = Pick<Peer, 'address' | 'destroy' | 'amInterested' | 'peerInterested' | 'requests' | 'uploads' | 'uploadsInFlight' | 'lastUsefulAt'>

/**
 * Whether a torrent with `peers` has room for one more connection under `max`, once it has closed
 * the least useful one if it was full (`forget` takes it out of `peers` at once).
 */
export function makeRoom<P extends EvictionCandidate> (peers: Set<P>, max: number, limits: PeerLimits = {}, forget: (peer: P) => void): boolean {
  if (peers.size < max) return true
  const idle = leastUseful(peers, limits)
  if (idle === null) return false
  const after = limits.evictAfter ?? DEFAULT_LIMITS.evictAfter
  const reason = new TrackerlessError('EBUSY', `peer ${idle.address} was idle (no interest, no data) for over ${after} ms while the torrent was full; closed it for a new peer`)
  idle.destroy(reason)
  forget(idle)
  limits.onDrop?.(idle.address, reason)
  return peers.size < max
}

/**
 * The connection that is least use: neither side interested, nothing requested either way, and
 * no payload (blocks, metadata) moved for `evictAfter` ms. Keep-alives, HAVEs and choke changes
 * are not use: they cost a squatter nothing. Of those, the one idle longest, as libtorrent
 * prefers to disconnect peers it is not interested in. Null when every connection is in use.
 */
export function leastUseful<P extends EvictionCandidate> (peers: Iterable<P>, limits: PeerLimits = {}, now = Date.now()): P | null {
  const after = limits.evictAfter ?? DEFAULT_LIMITS.evictAfter
  let best: P | null = null
  for (const peer of peers) {
    if (peer.amInterested || peer.peerInterested || peer.requests.size > 0 || peer.uploads.length > 0 || peer.uploadsInFlight > 0) continue
    if (now - peer.lastUsefulAt < after) continue
    if (best === null || peer.lastUsefulAt < best.lastUsefulAt) best = peer
  }
  return best
}
