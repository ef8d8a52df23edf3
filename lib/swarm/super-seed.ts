import { Bitfield } from '../util/bitfield.js'

/** What the super-seeder needs of a peer: which pieces it says it has. */
export interface SuperSeedPeer { readonly bitfield: Bitfield | null }

/**
 * BEP16 super-seeding, the decisions only (no wire, no clock): a seed that advertises one piece
 * at a time to each peer, gives each piece to one peer, and offers that peer its next piece only
 * once the piece has been seen elsewhere (another peer's HAVE), so a seeder's upload goes into
 * copies the swarm does not have yet and a seeder that leaves early leaves a whole copy behind.
 * The caller sends the HAVEs it returns instead of a bitfield and serves a peer only the pieces
 * it was offered (`mayServe`).
 */
export class SuperSeed<P extends SuperSeedPeer> {
  readonly pieceCount: number
  /** Connected peers that say they have each piece. */
  private readonly seen: Uint16Array
  /** Peers each piece is offered to now. */
  private readonly offeredTo: Uint16Array
  /** Pieces some peer has announced at least once since we started (one copy is out). */
  private readonly out: Bitfield
  private outCount = 0
  private readonly peers = new Map<P, PeerState>()

  constructor (pieceCount: number) {
    this.pieceCount = pieceCount
    this.seen = new Uint16Array(pieceCount)
    this.offeredTo = new Uint16Array(pieceCount)
    this.out = new Bitfield(pieceCount)
  }

  /** A peer whose bitfield is known: the piece to advertise to it with a HAVE, or -1 for none. */
  addPeer (peer: P): number {
    if (this.peers.has(peer)) return this.peers.get(peer)?.current ?? -1
    this.peers.set(peer, { current: -1, offered: new Bitfield(this.pieceCount), held: false })
    peer.bitfield?.forEachSet((i) => this.count(i))
    return this.offerNext(peer)
  }

  /** `peer` left; returns the peers it held back that may now be offered a new piece. */
  removePeer (peer: P): Array<[P, number]> {
    const state = this.peers.get(peer)
    if (state === undefined) return []
    this.peers.delete(peer)
    if (state.current >= 0) bump(this.offeredTo, state.current, -1)
    peer.bitfield?.forEachSet((i) => bump(this.seen, i, -1))
    const next: Array<[P, number]> = []
    for (const [other, s] of this.peers) {
      if (s.held && !this.someoneLacks(s.current, other)) this.release(other, next)
    }
    return next
  }

  /**
   * `peer` announced `index` (its bitfield already holds it). Returns the peers that may now be
   * offered a new piece, with that piece: the announcer if this was its offered piece and a copy
   * exists elsewhere, and any peer whose offered piece this HAVE shows passed on.
   */
  onHave (peer: P, index: number): Array<[P, number]> {
    if (index < 0 || index >= this.pieceCount) return []
    this.count(index)
    const next: Array<[P, number]> = []
    const own = this.peers.get(peer)
    if (own !== undefined && own.current === index) {
      own.held = true
      // Alone with this piece's only copy: move on, or the swarm waits on a peer with nobody to pass it to.
      if ((this.seen[index] ?? 0) > 1 || !this.someoneLacks(index, peer)) this.release(peer, next)
    }
    // The piece reached another peer: whoever it was offered to passed it on, announced or not
    // (clients send no HAVE to a peer that has the piece, and we told it we have it).
    for (const [other, state] of this.peers) {
      if (other !== peer && state.current === index) this.release(other, next)
    }
    return next
  }

  /** Whether `peer` may be sent blocks of `index`: only pieces we offered it. */
  mayServe (peer: P, index: number): boolean {
    return this.peers.get(peer)?.offered.get(index) ?? false
  }

  /** The piece `peer` is offered now, or -1. */
  offered (peer: P): number {
    return this.peers.get(peer)?.current ?? -1
  }

  /** Every piece has reached some peer once: a seeder that leaves now leaves a full copy out. */
  get allOut (): boolean {
    return this.outCount === this.pieceCount
  }

  private count (index: number): void {
    bump(this.seen, index, 1)
    if (this.out.set(index)) this.outCount++
  }

  private release (peer: P, next: Array<[P, number]>): void {
    const state = this.peers.get(peer)
    if (state === undefined) return
    if (state.current >= 0) bump(this.offeredTo, state.current, -1)
    state.current = -1
    state.held = false
    const piece = this.offerNext(peer)
    if (piece >= 0) next.push([peer, piece])
  }

  /** The rarest piece `peer` lacks, preferring pieces offered to nobody; -1 if it has them all. */
  private offerNext (peer: P): number {
    const state = this.peers.get(peer)
    if (state === undefined || state.current >= 0) return state?.current ?? -1
    let best = -1
    let bestScore = Infinity
    for (let i = 0; i < this.pieceCount; i++) {
      if (peer.bitfield?.get(i) === true || state.offered.get(i)) continue
      const score = (this.seen[i] ?? 0) * 65536 + (this.offeredTo[i] ?? 0)
      if (score < bestScore) { best = i; bestScore = score; if (score === 0) break }
    }
    if (best < 0) return -1
    state.current = best
    state.offered.set(best)
    bump(this.offeredTo, best, 1)
    return best
  }

  private someoneLacks (index: number, except: P): boolean {
    for (const other of this.peers.keys()) {
      if (other !== except && other.bitfield?.get(index) !== true) return true
    }
    return false
  }
}

/** Counts stay within [0, 65535]: a peer leaving never drives one below zero. */
function bump (counts: Uint16Array, index: number, by: 1 | -1): void {
  const value = (counts[index] ?? 0) + by
  if (value >= 0 && value <= 0xffff) counts[index] = value
}

interface PeerState {
  /** The piece advertised to the peer and not yet released, or -1. */
  current: number
  /** Every piece ever advertised to the peer: requests for them are served. */
  offered: Bitfield
  /** The peer announced its current piece; it waits for a copy to show up elsewhere. */
  held: boolean
}
