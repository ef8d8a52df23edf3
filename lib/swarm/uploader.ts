import type { TorrentStorage } from '../storage/torrent-storage.js'
import type { BlockRequest, Peer } from './peer.js'
import { READS_PER_PEER } from './tuning.js'
import { UNLIMITED, type RateGate } from './rate-limit.js'

/** What the uploader needs of a peer: whether we choke it, its wire, its upload rate. */
export type UploadPeer = Pick<Peer, 'amChoking' | 'upload'> & {
  readonly wire: Pick<Peer['wire'], 'send' | 'peerSupportsFast' | 'hasRoom' | 'destroyed'>
}

/** One peer's requests of us: queued in order, disk reads in flight for it (and their bytes), and its pump for the rate limits to call. */
interface Queue { readonly waiting: BlockRequest[], inFlight: number, inFlightBytes: number, readonly wake: () => void }

/**
 * Serves the blocks peers ask for, in order. Reads stop while a peer's socket holds about half a
 * second of what we send it (wire.hasRoom) and resume on 'drain', so a slow peer holds no more
 * than a few blocks in memory, and our own requests to it are not stuck behind seconds of blocks.
 */
export class Uploader<P extends UploadPeer = Peer> {
  private readonly storage: Pick<TorrentStorage, 'cachedRange' | 'load' | 'readDirect'>
  private readonly queues = new Map<P, Queue>()
  private readonly onError: (err: Error) => void
  /** The upload limits: a request leaves its queue only when they allow its length. */
  private readonly gate: RateGate

  constructor (storage: Pick<TorrentStorage, 'cachedRange' | 'load' | 'readDirect'>, onError: (err: Error) => void, gate: RateGate = UNLIMITED) {
    this.storage = storage
    this.onError = onError
    this.gate = gate
  }

  /** Requests of `peer` queued, not yet read. */
  queued (peer: P): number {
    return this.queues.get(peer)?.waiting.length ?? 0
  }

  /** Requests of `peer` queued or being read. */
  busy (peer: P): boolean {
    const queue = this.queues.get(peer)
    return queue !== undefined && (queue.waiting.length > 0 || queue.inFlight > 0)
  }

  enqueue (peer: P, req: BlockRequest): void {
    let queue = this.queues.get(peer)
    if (queue === undefined) {
      queue = { waiting: [], inFlight: 0, inFlightBytes: 0, wake: () => this.pump(peer) }
      this.queues.set(peer, queue)
    }
    queue.waiting.push({ index: req.index, begin: req.begin, length: req.length })
    this.pump(peer)
  }

  cancel (peer: P, req: BlockRequest): void {
    const waiting = this.queues.get(peer)?.waiting
    const i = waiting?.findIndex((u) => u.index === req.index && u.begin === req.begin && u.length === req.length) ?? -1
    if (i !== -1) waiting!.splice(i, 1)
  }

  /** We choked the peer: its queued requests will not be served (BEP6 peers are told so). */
  clear (peer: P): void {
    const queue = this.queues.get(peer)
    if (queue === undefined) return
    if (peer.wire.peerSupportsFast) for (const u of queue.waiting) peer.wire.send({ type: 'reject', ...u })
    queue.waiting.length = 0
  }

  /** The peer left: its queue is dropped (reads in flight find its wire destroyed). */
  remove (peer: P): void {
    this.queues.delete(peer)
    this.gate.forget(peer)
  }

  pump (peer: P): void {
    const queue = this.queues.get(peer)
    if (queue === undefined) return
    const rate = peer.upload.get()
    while (queue.inFlight < READS_PER_PEER && queue.waiting.length > 0 && peer.wire.hasRoom(queue.inFlightBytes, rate)) {
      if (!this.gate.allow(peer, queue.wake)) return
      const req = queue.waiting.shift()!
      this.gate.spend(req.length)
      const cached = this.storage.cachedRange(req.index, req.begin, req.length)
      if (cached !== null) {
        this.send(peer, req, cached)
        continue
      }
      this.fetch(peer, queue, req, true)
    }
  }

  /**
   * A block the read cache lacks. load() lets the cache reuse the window's buffer once every
   * socket has sent what it held, so the block must reach the socket in the same tick as
   * cachedRange() gives it. When the cache has no room (its budget is all in reads in flight and
   * buffers not yet sent) or the window left it before we looked, only the block is read.
   */
  private fetch (peer: P, queue: Queue, req: BlockRequest, viaCache: boolean): void {
    queue.inFlight++
    queue.inFlightBytes += req.length
    const fetched: Promise<Buffer | boolean> = viaCache ? this.storage.load(req.index, req.begin, req.length) : this.storage.readDirect(req.index, req.begin, req.length)
    fetched.then((block) => {
      queue.inFlight--
      queue.inFlightBytes -= req.length
      if (peer.wire.destroyed || peer.amChoking) return
      const data = typeof block === 'boolean' ? this.storage.cachedRange(req.index, req.begin, req.length) : block
      if (data === null) {
        this.fetch(peer, queue, req, false)
        return
      }
      this.send(peer, req, data)
      this.pump(peer)
    }, (err: Error) => {
      queue.inFlight--
      queue.inFlightBytes -= req.length
      this.onError(err)
    })
  }

  private send (peer: P, req: BlockRequest, block: Buffer): void {
    peer.wire.send({ type: 'piece', index: req.index, begin: req.begin, block })
    peer.upload.add(block.length)
  }
}
