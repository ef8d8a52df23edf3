import type { TrackerlessError } from '../errors.js'
import type { EvictionCandidate } from './eviction.js'

/**
 * @internal Timeouts and caps that keep peers from holding a client's connections hostage. Tests
 * shorten them through `TorrentOptions.limits`; not public API. A field left out takes its
 * default from DEFAULT_LIMITS.
 */
export interface PeerLimits {
  /** Open peer connections of the whole client, all torrents together; each torrent has its own
   *  cap (maxPeers) too. */
  maxConnections?: number
  /** ms an accepted connection has to complete its BitTorrent handshake. */
  handshakeTimeout?: number
  /** Accepted connections waiting for their handshake at once; one more closes the oldest. */
  maxHalfOpen?: number
  /** ms a connection of a full torrent may go with nothing useful exchanged and no interest
   *  either way before a newcomer may take its place. */
  evictAfter?: number
  /** ms to wait for a BEP9 metadata piece before that peer is no longer asked. */
  metadataTimeout?: number
  /** Told of each connection closed to make room (EBUSY) or for a missed handshake (ETIMEDOUT). */
  onDrop?: (address: string, reason: TrackerlessError) => void
}

/**
 * libtorrent's handshake_timeout is 10 s too. 32 half-open sockets is a quarter of the old cap
 * (128): enough for honest peers arriving together, and with oldest-out a flood only shortens the
 * time each of its own sockets gets. A connection gets as long to become useful (interest, data)
 * as it gets to handshake; libtorrent evicts the least useful peer with no grace at all, but then
 * two newcomers could evict each other before either has said what it wants. A metadata piece is
 * 16 KiB: 10 s for it is a peer slower than 1.6 KiB/s, or one that is not answering.
 */
export const DEFAULT_LIMITS = {
  maxConnections: 200,
  handshakeTimeout: 10_000,
  maxHalfOpen: 32,
  evictAfter: 10_000,
  metadataTimeout: 10_000
} as const satisfies Required<Omit<PeerLimits, 'onDrop'>>

/** A torrent's connections, as the client-wide cap sees them: `forget` takes one out at once;
 *  `busy` says whether blocks are requested of the peer or by it (the download knows). */
export interface Room<P extends EvictionCandidate = EvictionCandidate> {
  peers: Set<P>
  forget (peer: P): void
  busy (peer: P): boolean
}

/**
 * A client-wide cap on open peer connections, shared by all its swarms (each swarm also has
 * its own `maxPeers`), and the client's other limits on them. A slot is taken when a connection
 * starts, dialled or accepted, and given back when it closes, whether or not its handshake ever
 * completed. Each swarm registers its peers so that, when all slots are in use, a newcomer to one
 * torrent can take the place of an idle connection of another (see eviction.ts).
 */
export class ConnectionSlots {
  readonly max: number
  readonly limits: PeerLimits
  /** The torrents whose connections hold slots. */
  readonly rooms = new Set<Room>()
  private used = 0

  constructor (limits: PeerLimits = {}) {
    this.max = limits.maxConnections ?? DEFAULT_LIMITS.maxConnections
    this.limits = limits
  }

  get inUse (): number {
    return this.used
  }

  /** Takes a slot, or returns false when all are in use. `freed`: a connection was just closed to
   *  make room, and gives its slot back when its close event comes: take that one now. */
  take (freed = false): boolean {
    if (this.used >= this.max && !freed) return false
    this.used++
    return true
  }

  give (): void {
    if (this.used > 0) this.used--
  }
}
