import { TrackerlessError } from '../errors.js'
import type { Peer } from './peer.js'
import { DEFAULT_LIMITS, type ConnectionSlots, type PeerLimits, type Room } from './connection-slots.js'

/** What eviction needs to know of a connection. */
export type EvictionCandidate = Pick<Peer, 'address' | 'destroy' | 'amInterested' | 'peerInterested' | 'lastUsefulAt'>

/**
 * Admits a newcomer to `room` (a torrent under `max` connections), taking one of the client's
 * `slots`. When the torrent is full, its least useful connection makes room; when the client is
 * full, the least useful of any torrent's. False when every connection is in use.
 */
export function admit<P extends EvictionCandidate> (room: Room<P>, max: number, slots?: ConnectionSlots): boolean {
  const limits = slots?.limits ?? {}
  if (room.peers.size >= max) {
    const idle = leastUseful(room, limits)
    if (idle === null) return false
    close(room, idle, limits)
    return slots?.take(true) ?? true
  }
  if (slots === undefined || slots.take()) return true
  let best: { room: Room, peer: EvictionCandidate } | null = null
  for (const other of slots.rooms) {
    const idle = leastUseful(other, limits)
    if (idle !== null && (best === null || idle.lastUsefulAt < best.peer.lastUsefulAt)) best = { room: other, peer: idle }
  }
  if (best === null) return false
  close(best.room, best.peer, limits)
  return slots.take(true)
}

function close<P extends EvictionCandidate> (room: Room<P>, peer: P, limits: PeerLimits): void {
  const after = limits.evictAfter ?? DEFAULT_LIMITS.evictAfter
  const reason = new TrackerlessError('EBUSY', `peer ${peer.address} was idle (no interest, no data) for over ${after} ms while all connections were in use; closed it for a new peer`)
  peer.destroy(reason)
  room.forget(peer)
  limits.onDrop?.(peer.address, reason)
}

/**
 * The connection that is least use: neither side interested, nothing requested either way, and
 * no payload (blocks, metadata) moved for `evictAfter` ms. Keep-alives, HAVEs and choke changes
 * are not use: they cost a squatter nothing. Of those, the one idle longest, as libtorrent
 * prefers to disconnect peers it is not interested in. Null when every connection is in use.
 */
export function leastUseful<P extends EvictionCandidate> (room: Pick<Room<P>, 'peers' | 'busy'>, limits: PeerLimits = {}, now = Date.now()): P | null {
  const after = limits.evictAfter ?? DEFAULT_LIMITS.evictAfter
  let best: P | null = null
  for (const peer of room.peers) {
    if (peer.amInterested || peer.peerInterested || room.busy(peer)) continue
    if (now - peer.lastUsefulAt < after) continue
    if (best === null || peer.lastUsefulAt < best.lastUsefulAt) best = peer
  }
  return best
}
