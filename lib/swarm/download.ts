/**
 * Download: what a swarm does once it has metadata and storage. It owns the picker, the
 * scheduler (what to request of whom), the uploader (serving requests), verifying and writing
 * pieces, waking the reads that wait for them, and the strikes that lead to a ban. It exists only
 * when all of these do: a swarm without metadata has no Download.
 */
import { BLOCK_SIZE } from '../wire/messages.js'
import type { Metainfo } from '../metainfo/types.js'
import type { TorrentStorage } from '../storage/torrent-storage.js'
import type { Bitfield } from '../util/bitfield.js'
import { badRequest } from './request-check.js'
import { PiecePicker } from './picker.js'
import { FileSelection, type FilePriority, type FileSpec } from './selection.js'
import { Scheduler } from './scheduler.js'
import { Uploader } from './uploader.js'
import { requestKey, type BlockRequest, type Peer } from './peer.js'
import { UNLIMITED, requestedBytes, type TorrentRates } from './rate-limit.js'
import type { PartialPiece } from './partial-piece.js'
import type { PieceWaiters } from './waiters.js'
import { attachWebSeeds, type WebSeeds } from '../webseed/attach.js'
import { DEFAULT_MEMORY, MIN_QUEUE, QUEUE_SECONDS, STALL_TIMEOUT, START_QUEUE } from './tuning.js'

export interface DownloadOptions {
  meta: Metainfo
  storage: TorrentStorage
  /** The pieces we hold, as the scan found them; the Download sets bits as pieces are stored. */
  have: Bitfield
  /** 'all' fetches every piece rarest-first; 'lazy' only what reads ask for. */
  download: 'all' | 'lazy'
  /** Files fetched in the background (selection.ts), whatever `download` says. */
  files?: readonly FileSpec[]
  seed: boolean
  memoryBudget?: number
  /** The connected peers (the Connections' set, read only). */
  peers: ReadonlySet<Peer>
  waiters: PieceWaiters
  /** The torrent's rate limits (with the client's); none: unlimited. */
  rates?: TorrentRates
}

export interface DownloadEvents {
  piece (index: number): void
  done (): void
  /** We want nothing of anyone now (BEP21 upload_only), or want something again. */
  uploadOnly (value: boolean): void
  error (err: Error): void
  /** A peer sent data that failed the hash check: ban it. */
  ban (peer: Peer): void
}

export class Download {
  readonly meta: Metainfo
  readonly storage: TorrentStorage
  readonly have: Bitfield
  readonly picker: PiecePicker
  readonly selection: FileSelection
  /** Bytes of piece data received from peers, verified or not. */
  downloaded = 0
  /** The first failed piece write (disk full, read-only folder): downloading stops for good. */
  writeError: Error | null = null
  /** BEP19 mirrors (lib/webseed/): one more source of pieces; null when the torrent names none. */
  readonly webSeeds: WebSeeds | null
  private readonly scheduler: Scheduler
  private readonly uploader: Uploader
  /** Requests kept outstanding with each peer, as of its last top-up; none before the first. */
  private readonly windows = new Map<Peer, number>()
  /** When the stall check last released a peer's requests: its clock starts again from there. */
  private readonly releasedAt = new Map<Peer, number>()
  private readonly opts: DownloadOptions
  private readonly events: DownloadEvents
  private readonly peers: ReadonlySet<Peer>
  private readonly strikes = new Map<Peer, number>()
  private readonly stallTimer: NodeJS.Timeout
  private closed = false
  /** `complete` as last told (settleGoal). */
  private reached: boolean
  /** `uploadOnly` as last told (settleUploadOnly). */
  private saidUploadOnly: boolean

  constructor (opts: DownloadOptions, events: DownloadEvents) {
    const { meta, have, storage } = opts
    this.opts = opts
    this.events = events
    this.meta = meta
    this.storage = storage
    this.have = have
    this.peers = opts.peers
    this.picker = new PiecePicker(meta.pieceCount, { have })
    this.selection = new FileSelection(meta, this.picker, opts.download, opts.files)
    this.reached = this.complete
    this.saidUploadOnly = this.uploadOnly
    this.scheduler = new Scheduler(this.picker, {
      pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, length: meta.length, memoryBudget: opts.memoryBudget ?? DEFAULT_MEMORY, padding: meta.files.filter((f) => f.pad)
    })
    this.uploader = new Uploader(storage, (err) => events.error(err), opts.rates?.up)
    this.stallTimer = setInterval(() => this.releaseStalled(), STALL_TIMEOUT / 3).unref()
    this.webSeeds = attachWebSeeds(this, opts.memoryBudget ?? DEFAULT_MEMORY, { received: (n) => { this.downloaded += n }, stored: (i) => this.onPieceStored(i), failed: (err) => this.stopDownloading(err), abandoned: () => { for (const p of this.peers) this.fill(p) } })
  }

  /** Pieces [first, last] are fetched before anything else until the returned function is called. */
  prioritize (first: number, last: number): () => void {
    const handle = this.scheduler.prioritize(first, last)
    this.settleUploadOnly()
    for (const peer of this.peers) this.updateInterest(peer)
    return () => {
      this.scheduler.deprioritize(handle)
      this.settleUploadOnly()
    }
  }

  /** We hold every piece, or every piece of the selected files. */
  get complete (): boolean {
    return this.have.full || this.selection.reached()
  }

  /** We want nothing of anyone (BEP21 upload_only): complete, and no read waits for a piece. */
  get uploadOnly (): boolean {
    return (this.have.full || this.selection.active) && this.picker.neededRemaining === 0
  }

  /** Sets the priority of files (selection.ts); ENOENT when `spec` names none, unless `tolerant`. */
  select (spec: FileSpec, priority: FilePriority, tolerant = false): void {
    this.selection.prioritize(spec, priority, tolerant)
    if (!this.settleGoal()) for (const peer of this.peers) this.updateInterest(peer)
    this.settleUploadOnly()
  }

  /** The peer's write side drained: serve more of its requests. */
  pump (peer: Peer): void {
    this.uploader.pump(peer)
  }

  /** Blocks are requested of the peer or by it: it is not idle. */
  busy (peer: Peer): boolean {
    return this.scheduler.requests(peer).size > 0 || this.uploader.busy(peer)
  }

  /** We choked the peer: its queued requests are dropped. */
  choked (peer: Peer): void {
    this.uploader.clear(peer)
  }

  onAvailable (peer: Peer, index: number): void {
    if (index === -1) {
      if (peer.isSeed) this.picker.addSeed()
      else this.picker.addPeer(peer.bitfield!)
      this.scheduler.keepHeld(peer)
    } else {
      this.picker.peerHas(peer.bitfield!, index)
    }
    this.updateInterest(peer)
  }

  onUnavailable (peer: Peer): void {
    if (!peer.availabilityKnown) return
    if (peer.isSeed) this.picker.removeSeed()
    else this.picker.removePeer(peer.bitfield!)
  }

  onChoked (peer: Peer): void {
    this.releaseAll(peer)
  }

  onUnchoked (peer: Peer): void {
    this.fill(peer)
  }

  /** We asked `peer` for this block and have not cancelled it. */
  wasAsked (peer: Peer, index: number, begin: number): boolean {
    return this.scheduler.requests(peer).has(requestKey(index, begin / BLOCK_SIZE))
  }

  onBlock (peer: Peer, index: number, begin: number, block: Buffer): void {
    if (this.writeError !== null) return
    this.downloaded += block.length
    const endgame = this.scheduler.endgame
    const piece = this.scheduler.receive(peer, index, begin, block)
    if (endgame) this.cancelDuplicates(peer, index, begin, block.length)
    if (piece !== null) this.verify(piece)
    this.fill(peer, true)
  }

  onRejected (peer: Peer, req: BlockRequest): void {
    if (this.wasAsked(peer, req.index, req.begin)) this.opts.rates?.down.refund(req.length)
    this.scheduler.giveBack(peer, req)
  }

  onRequest (peer: Peer, req: BlockRequest): void {
    const bad = badRequest(req, this.meta.pieceCount, (i) => this.scheduler.pieceSize(i), this.uploader.queued(peer), peer.address)
    if (bad !== null) {
      peer.destroy(bad)
      return
    }
    if (!this.have.get(req.index) || peer.amChoking) {
      if (peer.wire.peerSupportsFast) peer.send({ type: 'reject', ...req })
      return
    }
    this.uploader.enqueue(peer, req)
  }

  onCancel (peer: Peer, req: BlockRequest): void {
    this.uploader.cancel(peer, req)
  }

  /** BEP54: the peer no longer has a piece (it evicted it); stop counting on it for that piece. */
  onDontHave (peer: Peer, index: number): void {
    if (!peer.availabilityKnown || index >= this.meta.pieceCount || !peer.has(index)) return
    if (peer.isSeed) {
      // A seed is counted once for all pieces; to lose one it must be counted piece by piece.
      this.picker.removeSeed()
      peer.isSeed = false
      this.picker.addPeer(peer.bitfield!)
    }
    this.picker.peerLost(peer.bitfield!, index)
    this.scheduler.forget(peer, index)
  }

  /** The peer left (it is no longer in `peers`). */
  onClose (peer: Peer): void {
    this.onUnavailable(peer)
    this.releaseAll(peer)
    this.strikes.delete(peer)
    this.windows.delete(peer)
    this.releasedAt.delete(peer)
    this.uploader.remove(peer)
    this.opts.rates?.down.forget(peer)
    // Its pieces are orphans now: let the others adopt them.
    for (const other of this.peers) this.fill(other)
  }

  close (): void {
    this.closed = true
    clearInterval(this.stallTimer)
    this.webSeeds?.close()
    this.opts.rates?.close()
  }

  updateInterest (peer: Peer): void {
    if (!peer.availabilityKnown) return
    // With no selection (lazy) nothing is wanted until a read asks, so any piece we lack is reason enough.
    const lacks = this.writeError === null && (this.selection.active
      ? this.picker.isInteresting(peer.isSeed ? 'all' : peer.bitfield!)
      : !this.have.full && (peer.isSeed || (peer.bitfield !== null && !peer.bitfield.empty)))
    peer.setInterested(lacks)
    if (lacks) this.fill(peer)
  }

  /**
   * Tops up the peer's requests to its window. After a block (`lazy`) it waits until a quarter of
   * the window has drained, so requests leave in batches: one socket write per batch instead of
   * one per block received.
   */
  private fill (peer: Peer, lazy = false): void {
    if (this.writeError !== null || peer.peerChoking || !peer.amInterested) return
    const window = this.windows.get(peer) ?? 0
    if (lazy && window > 0 && this.scheduler.requests(peer).size > window - Math.max(1, window >> 2)) return
    const wanted = this.requestWindow(peer)
    this.windows.set(peer, wanted)
    const limit = this.opts.rates?.down ?? UNLIMITED
    const wake = (): void => this.fill(peer)
    // requests() is read again each time: the first request creates the peer's map.
    while (this.scheduler.requests(peer).size < wanted) {
      // Download limits pace requests (rate-limit.ts): a peer sends only what we asked for.
      if (!limit.allow(peer, wake)) break
      const req = this.scheduler.next(peer)
      if (req === null) break
      peer.wire.send({ type: 'request', index: req.index, begin: req.begin, length: req.length })
      limit.spend(req.length)
    }
  }

  /**
   * Requests to keep outstanding with `peer`: what its rate drains in QUEUE_SECONDS, within its
   * reqq, and within its share of the partial-piece budget among the peers we can ask, so that
   * one fast peer does not take every piece the budget allows (bench/README.md, 8053c59).
   */
  private requestWindow (peer: Peer): number {
    const rate = peer.download.get()
    const wanted = rate === 0 ? START_QUEUE : Math.ceil(rate * QUEUE_SECONDS / BLOCK_SIZE)
    // `peer` itself is one of them, so there is at least one.
    let sources = 0
    for (const p of this.peers) if (!p.peerChoking && p.amInterested) sources++
    const share = Math.floor(this.scheduler.budgetBlocks / sources)
    return Math.min(peer.maxRequests, Math.max(MIN_QUEUE, Math.min(wanted, share)))
  }

  private cancelDuplicates (from: Peer, index: number, begin: number, length: number): void {
    const key = requestKey(index, begin / BLOCK_SIZE)
    for (const peer of this.peers) {
      if (peer !== from && this.scheduler.drop(peer, key)) peer.wire.send({ type: 'cancel', index, begin, length })
    }
  }

  private verify (piece: PartialPiece<Peer>): void {
    const storage = this.storage
    storage.verify(piece.index, piece.buffer).then(async (ok) => {
      if (this.closed) return
      if (!ok) {
        this.onBadPiece(piece)
        return
      }
      await storage.writePiece(piece.index, piece.buffer)
      if (this.closed) return
      this.onPieceStored(piece.index)
    }).catch((err: Error) => {
      this.scheduler.fail(piece.index)
      this.stopDownloading(err)
    })
  }

  /**
   * A piece could not be written. Fetching more would fail the same way (the disk stays full)
   * and waste the bandwidth, so this swarm stops: it cancels what it asked for, tells its peers
   * it is not interested, and fails every read waiting for a piece, now and later, with `err`;
   * one 'error' in all. It goes on uploading what it has. To resume, the user frees space and
   * opens the torrent again: its scan finds every piece stored before.
   */
  private stopDownloading (err: Error): void {
    if (this.writeError !== null) return
    this.writeError = err
    for (const peer of this.peers) {
      for (const req of this.scheduler.requests(peer).values()) peer.wire.send({ type: 'cancel', ...req })
      this.scheduler.release(peer, true)
      peer.setInterested(false)
    }
    this.opts.waiters.failAll(err)
    this.events.error(err)
  }

  private onPieceStored (index: number): void {
    this.scheduler.finish(index)
    this.picker.markHave(index)
    this.have.set(index)
    for (const peer of this.peers) if (!peer.has(index)) peer.send({ type: 'have', index })
    this.opts.waiters.resolve(index)
    this.events.piece(index)
    this.settleUploadOnly()
    if (this.settleGoal()) return
    // The piece's place in the budget goes to the peer with the fewest requests outstanding, the
    // one most likely idle; in insertion order the first peers took every place freed.
    const outstanding = (peer: Peer): number => this.scheduler.requests(peer).size
    for (const peer of [...this.peers].sort((a, b) => outstanding(a) - outstanding(b))) this.updateInterest(peer)
  }

  /**
   * Tells the swarm when everything selected is here (or, after the selection grew, no longer
   * is); true when it just became so. Then peers are told we are not interested (unless a read
   * still waits) and, without `seed`, choked.
   */
  private settleGoal (): boolean {
    const complete = this.complete
    if (complete === this.reached) return false
    this.reached = complete
    if (!complete) return false
    this.storage.createEmptyFiles((file) => this.selection.selected(file)).then(() => this.events.done(), (err: Error) => this.events.error(err))
    for (const peer of this.peers) {
      this.updateInterest(peer)
      if (!this.opts.seed && !peer.amChoking) peer.send({ type: 'choke' })
    }
    return true
  }

  /** Tells the swarm when `uploadOnly` changed: a read of a missing piece, or the selection, ends it. */
  private settleUploadOnly (): void {
    this.webSeeds?.wake()
    const value = this.uploadOnly
    if (value === this.saidUploadOnly || this.closed) return
    this.saidUploadOnly = value
    this.events.uploadOnly(value)
  }

  /** A sole contributor is banned at once; pieces with several get each a strike, two strikes ban. */
  private onBadPiece (piece: PartialPiece<Peer>): void {
    this.scheduler.fail(piece.index)
    for (const peer of piece.contributors) {
      const strikes = (this.strikes.get(peer) ?? 0) + 1
      this.strikes.set(peer, strikes)
      if (piece.contributors.size === 1 || strikes >= 2) this.events.ban(peer)
    }
    for (const peer of this.peers) this.fill(peer)
  }

  /** Gives back every block asked of `peer`, and what they took of the download limit. */
  private releaseAll (peer: Peer): void {
    this.opts.rates?.down.refund(requestedBytes(this.scheduler.requests(peer).values()))
    this.scheduler.release(peer, true)
  }

  private releaseStalled (): void {
    const now = Date.now()
    for (const peer of this.peers) {
      const since = Math.max(peer.lastBlockAt, this.releasedAt.get(peer) ?? 0)
      if (this.scheduler.requests(peer).size > 0 && now - since > STALL_TIMEOUT) {
        this.releaseAll(peer)
        this.releasedAt.set(peer, now)
        for (const other of this.peers) if (other !== peer) this.fill(other)
      }
    }
  }
}
