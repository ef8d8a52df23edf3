import { BLOCK_SIZE } from '../wire/messages.js'
import type { PiecePicker } from './picker.js'
import { PartialPiece } from './partial-piece.js'
import { BufferPool } from '../util/buffer-pool.js'
import { sharedBuffer } from '../storage/file-writer.js'
import { requestKey, type BlockRequest, type Peer } from './peer.js'

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
export class Scheduler {
  readonly partials = new Map<number, PartialPiece<Peer>>()
  private readonly picker: PiecePicker
  private readonly opts: SchedulerOptions
  private readonly maxPartials: number
  private readonly buffers: BufferPool
  private readonly priorityRanges = new Map<number, [number, number]>()

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

  /** The next block to ask `peer` for, recorded in peer.requests; null when there is none. */
  next (peer: Peer): BlockRequest | null {
    for (const piece of peer.owned) {
      const req = this.take(peer, piece)
      if (req !== null) return req
    }
    for (const piece of this.partials.values()) {
      if (piece.owner === peer || !peer.has(piece.index)) continue
      if (piece.owner === null) {
        piece.owner = peer
        peer.owned.add(piece)
      } else if (!piece.shared) {
        continue
      }
      const req = this.take(peer, piece)
      if (req !== null) return req
    }
    if (this.partials.size < this.maxPartials) {
      const index = this.picker.pick(peer.isSeed ? 'all' : peer.bitfield!)
      if (index !== -1) {
        const piece = new PartialPiece<Peer>(index, this.pieceSize(index), peer, this.buffers.take())
        piece.shared = this.isPriority(index)
        this.fillPadding(piece)
        this.partials.set(index, piece)
        this.picker.markStarted(index)
        peer.owned.add(piece)
        return this.take(peer, piece)
      }
    }
    // Strict end-game, libtorrent's default: only a peer with nothing else to do asks for a
    // block someone else is already sending, one at a time; on a fast link every duplicate
    // asked for is a duplicate received, which costs both ends a block's worth of work.
    return this.endgame && peer.requests.size === 0 ? this.duplicate(peer) : null
  }

  /** A block arrived; returns the piece when that block completed it. */
  receive (peer: Peer, index: number, begin: number, data: Buffer): PartialPiece<Peer> | null {
    const block = begin / BLOCK_SIZE
    peer.requests.delete(requestKey(index, block))
    const piece = this.partials.get(index)
    if (piece === undefined || !Number.isInteger(block)) return null
    if (!piece.addBlock(block, data, peer) || !piece.complete) return null
    for (const p of piece.contributors) p.owned.delete(piece)
    piece.owner?.owned.delete(piece)
    return piece
  }

  /** A request that will not be answered goes back to the pool. */
  giveBack (peer: Peer, req: BlockRequest): void {
    const block = req.begin / BLOCK_SIZE
    if (!peer.requests.delete(requestKey(req.index, block))) return
    this.partials.get(req.index)?.returnBlock(block)
  }

  /** The peer choked us, left or stalled: its requests go back and its pieces become orphans
   *  that the next peer to have them adopts, keeping the blocks already received. */
  release (peer: Peer, disown: boolean): void {
    for (const req of peer.requests.values()) this.partials.get(req.index)?.returnBlock(req.begin / BLOCK_SIZE)
    peer.requests.clear()
    if (!disown) return
    for (const piece of peer.owned) if (piece.owner === peer) piece.owner = null
    peer.owned.clear()
  }

  /** The peer no longer has piece `index` (BEP54): it stops fetching it; others may adopt it. */
  forget (peer: Peer, index: number): void {
    for (const piece of peer.owned) {
      if (piece.index !== index) continue
      peer.owned.delete(piece)
      if (piece.owner === peer) piece.owner = null
    }
    for (const [key, req] of peer.requests) {
      if (req.index !== index) continue
      peer.requests.delete(key)
      this.partials.get(index)?.returnBlock(req.begin / BLOCK_SIZE)
    }
  }

  /** The peer replaced its set (a later BITFIELD): what it no longer has is no longer asked of it. */
  keepHeld (peer: Peer): void {
    const lost = new Set<number>()
    for (const piece of peer.owned) if (!peer.has(piece.index)) lost.add(piece.index)
    for (const req of peer.requests.values()) if (!peer.has(req.index)) lost.add(req.index)
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
    for (const p of piece.contributors) p.owned.delete(piece)
    piece.owner?.owned.delete(piece)
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

  private fillPadding (piece: PartialPiece<Peer>): void {
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

  private take (peer: Peer, piece: PartialPiece<Peer>): BlockRequest | null {
    const block = piece.takeBlock()
    if (block === -1) return null
    return this.record(peer, piece, block)
  }

  private record (peer: Peer, piece: PartialPiece<Peer>, block: number): BlockRequest {
    const req = { index: piece.index, begin: block * BLOCK_SIZE, length: piece.blockLength(block) }
    peer.requests.set(requestKey(piece.index, block), req)
    return req
  }

  /** End-game, for a peer with no requests: the block already asked of the fewest other peers;
   *  null when there is none. */
  private duplicate (peer: Peer): BlockRequest | null {
    let best: PartialPiece<Peer> | null = null
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
