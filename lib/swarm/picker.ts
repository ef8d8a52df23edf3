import { Bitfield } from '../util/bitfield.js'

/** What a peer holds: its live bitfield, or 'all' for a seed (HAVE_ALL or a full BITFIELD). */
export type PeerPieces = Bitfield | 'all'

export interface PiecePickerOptions {
  /** Pieces already verified (resume); they are never picked. */
  have?: Bitfield
  /** Source of the tie-break shuffle; pass a seeded one in tests. Default Math.random. */
  random?: () => number
}

interface PriorityRange {
  readonly first: number
  readonly last: number
  /** Lowest index of the range not yet had: had pieces stay had, so the scan never revisits them. */
  cursor: number
}

/** Per registered peer: how many of its pieces we still need, so interest is an O(1) question. */
interface PeerInterest {
  needed: number
}

/**
 * Chooses the next piece to fetch: pieces under a read (priority ranges) first in ascending order,
 * then the rarest wanted piece, ties broken by a shuffle made once at construction.
 *
 * Candidates (wanted, not had, not started) live in one array sorted by availability, cut into
 * buckets of equal availability (libtorrent's layout). Bucket 0 holds every piece that is not a
 * candidate; bucket b >= 1 holds candidates that b - 1 partial peers have. An availability change
 * moves a piece to the neighbouring bucket with one swap, and a pick reads the array from the
 * rarest bucket on. Seeds are one counter: they add the same to every piece and do not change the
 * order. Starting, finishing or deselecting a piece moves it bucket by bucket to bucket 0, which
 * costs its availability in swaps (bounded by the number of peers), once per piece.
 *
 * Registered peers (addPeer) must change their bitfield only through peerHas/peerLost so that
 * availability and interest stay exact; this also makes a repeated HAVE harmless.
 */
export class PiecePicker {
  readonly pieceCount: number
  /** Pieces, grouped by bucket. */
  private readonly order: Int32Array
  /** Index of each piece in `order`. */
  private readonly position: Int32Array
  /** Bucket b is order[bounds[b], bounds[b + 1]); the last entry is always pieceCount. */
  private readonly bounds: number[]
  /** Number of registered (non-seed) peers that have each piece. */
  private readonly holders: Int32Array
  private readonly have: Uint8Array
  private readonly started: Uint8Array
  private readonly wanted: Uint8Array
  /** Number of priority ranges covering each piece. */
  private readonly covered: Int32Array
  private readonly ranges = new Map<number, PriorityRange>()
  private readonly peers = new Map<Bitfield, PeerInterest>()
  private seeds = 0
  private nextHandle = 1
  /** Pieces not had that are wanted or covered by a priority range. */
  private needed = 0
  private wantedLeft = 0

  constructor (pieceCount: number, options: PiecePickerOptions = {}) {
    if (!Number.isInteger(pieceCount) || pieceCount < 0) {
      throw new RangeError(`pieceCount must be a non-negative integer, got ${pieceCount}`)
    }
    const { have, random = Math.random } = options
    this.pieceCount = pieceCount
    if (have !== undefined) this.checkLength(have, 'have')
    this.order = new Int32Array(pieceCount)
    this.position = new Int32Array(pieceCount)
    this.holders = new Int32Array(pieceCount)
    this.have = new Uint8Array(pieceCount)
    this.started = new Uint8Array(pieceCount)
    this.wanted = new Uint8Array(pieceCount).fill(1)
    this.covered = new Int32Array(pieceCount)

    const shuffled = new Int32Array(pieceCount)
    for (let i = 0; i < pieceCount; i++) shuffled[i] = i
    for (let i = pieceCount - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      const t = shuffled[i]!
      shuffled[i] = shuffled[j]!
      shuffled[j] = t
    }
    // Had pieces first (bucket 0), then the candidates, each group in shuffled order.
    let at = 0
    for (const piece of shuffled) {
      if (have?.get(piece) === true) {
        this.have[piece] = 1
        this.place(piece, at++)
      }
    }
    const firstCandidate = at
    for (const piece of shuffled) {
      if (this.have[piece] === 0) this.place(piece, at++)
    }
    this.bounds = [0, firstCandidate, pieceCount]
    this.needed = this.wantedLeft = pieceCount - firstCandidate
  }

  /** Peers that have this piece, seeds included. */
  availability (index: number): number {
    this.checkIndex(index)
    return this.holders[index]! + this.seeds
  }

  /** Wanted pieces not yet had: 0 means the selected files are complete. */
  get wantedRemaining (): number {
    return this.wantedLeft
  }

  /** Pieces not had that are wanted or under a read: 0 means we want nothing of anyone. */
  get neededRemaining (): number {
    return this.needed
  }

  has (index: number): boolean {
    this.checkIndex(index)
    return this.have[index] === 1
  }

  /**
   * Registers a peer by its bitfield once its initial pieces are known (BITFIELD, or an empty one
   * for HAVE_NONE). Costs one step per piece it has; a peer with every piece is cheaper as addSeed.
   * Registering the same bitfield twice does nothing.
   */
  addPeer (peer: Bitfield): void {
    this.checkLength(peer, 'peer bitfield')
    if (this.peers.has(peer)) return
    const interest: PeerInterest = { needed: 0 }
    this.peers.set(peer, interest)
    peer.forEachSet((piece) => {
      this.gain(piece)
      if (this.isNeeded(piece)) interest.needed++
    })
  }

  /** Forgets a registered peer (disconnect); an unknown bitfield is ignored. */
  removePeer (peer: Bitfield): void {
    if (!this.peers.delete(peer)) return
    peer.forEachSet((piece) => this.lose(piece))
  }

  addSeed (): void {
    this.seeds++
  }

  removeSeed (): void {
    if (this.seeds === 0) throw new RangeError('removeSeed() without a matching addSeed()')
    this.seeds--
  }

  /**
   * A HAVE from a registered peer: sets the bit in its bitfield and counts it. Returns false when
   * nothing changed (a repeated HAVE, or an index out of range, which the wire layer should have
   * refused already).
   */
  peerHas (peer: Bitfield, index: number): boolean {
    const interest = this.interestOf(peer)
    if (!peer.set(index, true)) return false
    this.gain(index)
    if (this.isNeeded(index)) interest.needed++
    return true
  }

  /**
   * A DONTHAVE (BEP54) from a registered peer: clears the bit and uncounts it. A seed that sends
   * DONTHAVE must first become a partial peer: removeSeed(), addPeer(a full bitfield), then this.
   */
  peerLost (peer: Bitfield, index: number): boolean {
    const interest = this.interestOf(peer)
    if (!peer.set(index, false)) return false
    this.lose(index)
    if (this.isNeeded(index)) interest.needed--
    return true
  }

  /** A verified piece: never picked again, and no longer makes anyone interesting. */
  markHave (index: number): void {
    this.checkIndex(index)
    if (this.have[index] === 1) return
    const wasNeeded = this.isNeeded(index)
    const wasCandidate = this.isCandidate(index)
    if (this.wanted[index] === 1) this.wantedLeft--
    this.have[index] = 1
    this.started[index] = 0
    this.settle(index, wasNeeded, wasCandidate)
  }

  /** A piece now being fetched: not picked again until markAbandoned (or markHave). */
  markStarted (index: number): void {
    this.checkIndex(index)
    if (this.have[index] === 1 || this.started[index] === 1) return
    const wasCandidate = this.isCandidate(index)
    this.started[index] = 1
    this.settle(index, this.isNeeded(index), wasCandidate)
  }

  /** A started piece given up (its peer left, its hash failed): it can be picked again. */
  markAbandoned (index: number): void {
    this.checkIndex(index)
    if (this.started[index] === 0) return
    const wasCandidate = this.isCandidate(index)
    this.started[index] = 0
    this.settle(index, this.isNeeded(index), wasCandidate)
  }

  /**
   * File selection. An unwanted piece is never picked rarest-first, but a priority range still
   * fetches it: a read of a deselected file needs its data, and download: 'lazy' is "nothing
   * wanted, priority ranges for reads". Costs the piece's availability plus one step per peer.
   */
  setWanted (index: number, wanted: boolean): void {
    this.checkIndex(index)
    const value = wanted ? 1 : 0
    if (this.wanted[index] === value) return
    const wasNeeded = this.isNeeded(index)
    const wasCandidate = this.isCandidate(index)
    if (this.have[index] === 0) this.wantedLeft += wanted ? 1 : -1
    this.wanted[index] = value
    this.settle(index, wasNeeded, wasCandidate)
  }

  /**
   * Pieces first..last (inclusive) are picked before any other, lowest index first, whether wanted
   * or not. Returns a handle for removePriority. Costs one step per piece in the range.
   */
  addPriority (first: number, last: number): number {
    this.checkIndex(first)
    this.checkIndex(last)
    if (first > last) throw new RangeError(`priority range ${first}..${last} is empty: first must not exceed last`)
    for (let piece = first; piece <= last; piece++) {
      const wasNeeded = this.isNeeded(piece)
      this.covered[piece]!++
      if (!wasNeeded && this.isNeeded(piece)) this.neededChanged(piece, 1)
    }
    const handle = this.nextHandle++
    this.ranges.set(handle, { first, last, cursor: first })
    return handle
  }

  /** Ends a priority range; an unknown or already removed handle is ignored. */
  removePriority (handle: number): void {
    const range = this.ranges.get(handle)
    if (range === undefined) return
    this.ranges.delete(handle)
    for (let piece = range.first; piece <= range.last; piece++) {
      const wasNeeded = this.isNeeded(piece)
      this.covered[piece]!--
      if (wasNeeded && !this.isNeeded(piece)) this.neededChanged(piece, -1)
    }
  }

  /**
   * The piece to start next from this peer, or -1. Does not mark it started: call markStarted once
   * it is requested, or the next pick returns the same piece. Costs, beyond the priority ranges,
   * one step per rarer candidate the peer lacks; O(1) for a seed.
   */
  pick (peer: PeerPieces): number {
    if (this.ranges.size > 0) {
      const piece = this.pickPriority(peer)
      if (piece !== -1) return piece
    }
    const order = this.order
    const end = this.pieceCount
    if (peer === 'all') {
      const first = this.bounds[1]!
      return first < end ? order[first]! : -1
    }
    // Every piece of a registered peer has a holder, so bucket 1 (held by seeds only) is skipped.
    const start = this.peers.has(peer) ? this.bounds[2]! : this.bounds[1]!
    const bits = peer.buffer
    for (let i = start; i < end; i++) {
      const piece = order[i]!
      if ((bits[piece >> 3]! & (0x80 >> (piece & 7))) !== 0) return piece
    }
    return -1
  }

  /**
   * Does the peer have a piece we lack and want (or need for a read)? O(1) for a seed or a
   * registered peer; an unregistered bitfield is checked piece by piece.
   */
  isInteresting (peer: PeerPieces): boolean {
    if (peer === 'all') return this.needed > 0
    const interest = this.peers.get(peer)
    if (interest !== undefined) return interest.needed > 0
    for (let piece = 0; piece < this.pieceCount; piece++) {
      if (peer.get(piece) && this.isNeeded(piece)) return true
    }
    return false
  }

  private pickPriority (peer: PeerPieces): number {
    const have = this.have
    const started = this.started
    let best = -1
    for (const range of this.ranges.values()) {
      let piece = range.cursor
      while (piece <= range.last && have[piece] === 1) piece++
      range.cursor = piece
      const last = best === -1 ? range.last : Math.min(range.last, best - 1)
      for (; piece <= last; piece++) {
        if (have[piece] === 1 || started[piece] === 1) continue
        if (peer === 'all' || peer.get(piece)) {
          best = piece
          break
        }
      }
    }
    return best
  }

  private isCandidate (piece: number): boolean {
    return this.wanted[piece] === 1 && this.have[piece] === 0 && this.started[piece] === 0
  }

  private isNeeded (piece: number): boolean {
    return this.have[piece] === 0 && (this.wanted[piece] === 1 || this.covered[piece]! > 0)
  }

  /** Brings bucket membership and interest counts in line after a state flag changed. */
  private settle (piece: number, wasNeeded: boolean, wasCandidate: boolean): void {
    const candidate = this.isCandidate(piece)
    if (candidate && !wasCandidate) {
      for (let b = 0, top = this.holders[piece]! + 1; b < top; b++) this.moveUp(piece, b)
    } else if (!candidate && wasCandidate) {
      for (let b = this.holders[piece]! + 1; b > 0; b--) this.moveDown(piece, b)
    }
    const needed = this.isNeeded(piece)
    if (needed !== wasNeeded) this.neededChanged(piece, needed ? 1 : -1)
  }

  private neededChanged (piece: number, delta: 1 | -1): void {
    this.needed += delta
    for (const [peer, interest] of this.peers) {
      if (peer.get(piece)) interest.needed += delta
    }
  }

  private gain (piece: number): void {
    if (this.isCandidate(piece)) this.moveUp(piece, this.holders[piece]! + 1)
    this.holders[piece]!++
  }

  private lose (piece: number): void {
    if (this.holders[piece] === 0) return
    if (this.isCandidate(piece)) this.moveDown(piece, this.holders[piece]! + 1)
    this.holders[piece]!--
  }

  /** Moves a piece from the end of bucket b to the start of bucket b + 1. */
  private moveUp (piece: number, b: number): void {
    const bounds = this.bounds
    if (b + 2 === bounds.length) bounds.push(this.pieceCount)
    const last = bounds[b + 1]! - 1
    this.swap(this.position[piece]!, last)
    bounds[b + 1] = last
  }

  /** Moves a piece from the start of bucket b to the end of bucket b - 1. */
  private moveDown (piece: number, b: number): void {
    const first = this.bounds[b]!
    this.swap(this.position[piece]!, first)
    this.bounds[b] = first + 1
  }

  private swap (i: number, j: number): void {
    const a = this.order[i]!
    const c = this.order[j]!
    this.place(c, i)
    this.place(a, j)
  }

  private place (piece: number, at: number): void {
    this.order[at] = piece
    this.position[piece] = at
  }

  private interestOf (peer: Bitfield): PeerInterest {
    const interest = this.peers.get(peer)
    if (interest === undefined) throw new RangeError('peerHas/peerLost on a bitfield that was not registered with addPeer()')
    return interest
  }

  private checkIndex (index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) {
      throw new RangeError(`piece index ${index} is outside 0..${this.pieceCount - 1}`)
    }
  }

  private checkLength (bits: Bitfield, what: string): void {
    if (bits.length !== this.pieceCount) {
      throw new RangeError(`${what} has ${bits.length} bits but the torrent has ${this.pieceCount} pieces`)
    }
  }
}
