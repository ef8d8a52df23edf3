import { BLOCK_SIZE } from '../wire/messages.js'
import type { PiecePicker } from './picker.js'
import { PartialPiece } from './partial-piece.js'
import { BufferPool } from '../util/buffer-pool.js'
import { sharedBuffer } from '../storage/file-writer.js'
import { requestKey, type BlockRequest, type Peer } from './peer.js'

/** What the scheduler needs of a peer: what it has. */
export type SchedulerPeer = Pick<Peer, 'has' | 'isSeed' | 'bitfield'>

/** What we asked of one peer: requests by requestKey, and the pieces it fetches for us alone. */
interface Asked<P> {
  readonly requests: Map<number, BlockRequest>
  readonly owned: Set<PartialPiece<P>>
}

const NOTHING: ReadonlyMap<number, BlockRequest> = new Map()

export interface SchedulerOptions {
  pieceLength: number
  pieceCount: number
  /** The torrent's total length, to size the last piece. */
  length: number
  /** Bytes of partial pieces held in memory at once; at least two pieces are always allowed. */
  memoryBudget: number
  /** BEP47 pad files as torrent-wide byte ranges, by offset: zeros that are never requested. */
  padding?: ReadonlyArray<{ readonly offset: number, readonly length: number }>
}

/**
 * Decides which block to request from which peer. A new piece is owned by the peer that starts it
 * (one suspect if its hash fails, and whole pieces arrive sooner); pieces a read waits for and
 * the last pieces (end-game) are shared, and in end-game a missing block is asked of several peers.
 */
export class Scheduler<P extends SchedulerPeer = Peer> {
  readonly partials = new Map<number, PartialPiece<P>>()
  private readonly picker: PiecePicker
  private readonly opts: SchedulerOptions
  private readonly maxPartials: number
  private readonly buffers: BufferPool
  private readonly priorityRanges = new Map<number, [number, number]>()
  private readonly asked = new Map<P, Asked<P>>()

  constructor (picker: PiecePicker, opts: SchedulerOptions) {
    this.picker = picker
    this.opts = opts
    this.maxPartials = Math.max(2, Math.floor(opts.memoryBudget / opts.pieceLength))
    // Shared memory: the disk storage's writing thread then takes a verified piece without a copy.
    this.buffers = new BufferPool(opts.pieceLength, this.maxPartials, sharedBuffer)
  }

  pieceSize (index: number): number {
    return Math.min(this.opts.pieceLength, this.opts.length - index * this.opts.pieceLength)
  }

  /** Blocks in the partial pieces the memory budget allows: all peers' requests together fit. */
  get budgetBlocks (): number {
    return this.maxPartials * this.opts.pieceLength / BLOCK_SIZE
  }

  /** Every wanted piece we lack is already started: time to ask for missing blocks twice. */
  get endgame (): boolean {
    return this.picker.wantedRemaining <= this.partials.size
  }

  /** Requests outstanding with `peer`, by requestKey. */
  requests (peer: P): ReadonlyMap<number, BlockRequest> {
    return this.asked.get(peer)?.requests ?? NOTHING
  }

  /** Forgets the request for block `key` of `peer` (end-game: another peer sent it); false when there was none. */
  drop (peer: P, key: number): boolean {
    return this.asked.get(peer)?.requests.delete(key) ?? false
  }

  /** The next block to ask `peer` for, recorded in its requests; null when there is none. */
  next (peer: P): BlockRequest | null {
    const asked = this.of(peer)
    for (const piece of asked.owned) {
      const req = this.take(peer, piece)
      if (req !== null) return req
    }
    for (const piece of this.partials.values()) {
      if (piece.owner === peer || !peer.has(piece.index)) continue
      if (piece.owner === null) {
        piece.owner = peer
        asked.owned.add(piece)
      } else if (!piece.shared) {
        continue
      }
      const req = this.take(peer, piece)
      if (req !== null) return req
    }
    if (this.partials.size < this.maxPartials) {
      const index = this.picker.pick(peer.isSeed ? 'all' : peer.bitfield!)
      if (index !== -1) {
        const piece = new PartialPiece<P>(index, this.pieceSize(index), peer, this.buffers.take())
        piece.shared = this.isPriority(index)
        this.fillPadding(piece)
        this.partials.set(index, piece)
        this.picker.markStarted(index)
        asked.owned.add(piece)
        return this.take(peer, piece)
      }
    }
    // Strict end-game, libtorrent's default: only a peer with nothing else to do asks for a
    // block someone else is already sending, one at a time; on a fast link every duplicate
    // asked for is a duplicate received, which costs both ends a block's worth of work.
    return this.endgame && asked.requests.size === 0 ? this.duplicate(peer) : null
  }

  /** A block arrived; returns the piece when that block completed it. */
  receive (peer: P, index: number, begin: number, data: Buffer): PartialPiece<P> | null {
    const block = begin / BLOCK_SIZE
    this.drop(peer, requestKey(index, block))
    const piece = this.partials.get(index)
    if (piece === undefined || !Number.isInteger(block)) return null
    if (!piece.addBlock(block, data, peer) || !piece.complete) return null
    this.disown(piece)
    return piece
  }

  /** A request that will not be answered goes back to the pool. */
  giveBack (peer: P, req: BlockRequest): void {
    const block = req.begin / BLOCK_SIZE
    if (!this.drop(peer, requestKey(req.index, block))) return
    this.partials.get(req.index)?.returnBlock(block)
  }

  /** The peer choked us, left or stalled: its requests go back and its pieces become orphans
   *  that the next peer to have them adopts, keeping the blocks already received. */
  release (peer: P, disown: boolean): void {
    const asked = this.asked.get(peer)
    if (asked === undefined) return
    for (const req of asked.requests.values()) this.partials.get(req.index)?.returnBlock(req.begin / BLOCK_SIZE)
    asked.requests.clear()
    if (!disown) return
    for (const piece of asked.owned) if (piece.owner === peer) piece.owner = null
    this.asked.delete(peer)
  }

  /** The peer no longer has piece `index` (BEP54): it stops fetching it; others may adopt it. */
  forget (peer: P, index: number): void {
    const asked = this.asked.get(peer)
    if (asked === undefined) return
    for (const piece of asked.owned) {
      if (piece.index !== index) continue
      asked.owned.delete(piece)
      if (piece.owner === peer) piece.owner = null
    }
    for (const [key, req] of asked.requests) {
      if (req.index !== index) continue
      asked.requests.delete(key)
      this.partials.get(index)?.returnBlock(req.begin / BLOCK_SIZE)
    }
  }

  /** The peer replaced its set (a later BITFIELD): what it no longer has is no longer asked of it. */
  keepHeld (peer: P): void {
    const asked = this.asked.get(peer)
    if (asked === undefined) return
    const lost = new Set<number>()
    for (const piece of asked.owned) if (!peer.has(piece.index)) lost.add(piece.index)
    for (const req of asked.requests.values()) if (!peer.has(req.index)) lost.add(req.index)
    for (const index of lost) this.forget(peer, index)
  }

  /** The piece is verified and stored: its buffer goes back to the pool. */
  finish (index: number): void {
    const piece = this.partials.get(index)
    if (piece === undefined) return
    this.partials.delete(index)
    this.buffers.give(piece.storage)
  }

  /** The piece failed its hash check: drop its data and let it be picked again, by one peer. */
  fail (index: number): void {
    const piece = this.partials.get(index)
    if (piece === undefined) return
    this.disown(piece)
    this.partials.delete(index)
    this.buffers.give(piece.storage)
    this.picker.markAbandoned(index)
  }

  /** Pieces in [first, last] jump the queue and may be fetched by several peers at once. */
  prioritize (first: number, last: number): number {
    const handle = this.picker.addPriority(first, last)
    this.priorityRanges.set(handle, [first, last])
    for (let i = first; i <= last; i++) {
      const piece = this.partials.get(i)
      if (piece !== undefined) piece.shared = true
    }
    return handle
  }

  deprioritize (handle: number): void {
    if (this.priorityRanges.delete(handle)) this.picker.removePriority(handle)
  }

  private isPriority (index: number): boolean {
    for (const [first, last] of this.priorityRanges.values()) if (index >= first && index <= last) return true
    return false
  }

  /** Nobody fetches the piece alone any more (it is complete, or dropped). */
  private disown (piece: PartialPiece<P>): void {
    for (const p of piece.contributors) this.asked.get(p)?.owned.delete(piece)
    if (piece.owner !== null) this.asked.get(piece.owner)?.owned.delete(piece)
  }

  private of (peer: P): Asked<P> {
    let asked = this.asked.get(peer)
    if (asked === undefined) {
      asked = { requests: new Map(), owned: new Set() }
      this.asked.set(peer, asked)
    }
    return asked
  }

  private fillPadding (piece: PartialPiece<P>): void {
    const pads = this.opts.padding ?? []
    const start = piece.index * this.opts.pieceLength
    const end = start + piece.length
    let lo = 0
    let hi = pads.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (pads[mid]!.offset + pads[mid]!.length <= start) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < pads.length && pads[i]!.offset < end; i++) {
      const pad = pads[i]!
      piece.fillPadding(Math.max(0, pad.offset - start), pad.offset + pad.length - start)
    }
  }

  private take (peer: P, piece: PartialPiece<P>): BlockRequest | null {
    const block = piece.takeBlock()
    if (block === -1) return null
    return this.record(peer, piece, block)
  }

  private record (peer: P, piece: PartialPiece<P>, block: number): BlockRequest {
    const req = { index: piece.index, begin: block * BLOCK_SIZE, length: piece.blockLength(block) }
    this.of(peer).requests.set(requestKey(piece.index, block), req)
    return req
  }

  /** End-game, for a peer with no requests: the block already asked of the fewest other peers;
   *  null when there is none. */
  private duplicate (peer: P): BlockRequest | null {
    let best: PartialPiece<P> | null = null
    let bestBlock = -1
    for (const piece of this.partials.values()) {
      if (piece.complete || !peer.has(piece.index)) continue
      const block = piece.leastAskedPending()
      if (block === -1 || (best !== null && piece.timesAsked(block) >= best.timesAsked(bestBlock))) continue
      best = piece
      bestBlock = block
      if (piece.timesAsked(block) === 1) break
    }
    if (best === null) return null
    best.shared = true
    best.askAgain(bestBlock)
    return this.record(peer, best, bestBlock)
  }
}
