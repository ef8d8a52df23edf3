import type { TorrentStorage } from '../storage/torrent-storage.js'
import type { BlockRequest, Peer } from './peer.js'
import { READS_PER_PEER } from './tuning.js'

/**
 * Serves the blocks peers ask for, in order. Reads stop while a peer's socket is full and resume
 * on 'drain', so a slow peer holds no more than a few blocks in memory.
 */
export class Uploader {
  private readonly storage: TorrentStorage
  private readonly onError: (err: Error) => void

  constructor (storage: TorrentStorage, onError: (err: Error) => void) {
    this.storage = storage
    this.onError = onError
  }

  enqueue (peer: Peer, req: BlockRequest): void {
    peer.uploads.push({ index: req.index, begin: req.begin, length: req.length })
    this.pump(peer)
  }

  cancel (peer: Peer, req: BlockRequest): void {
    const i = peer.uploads.findIndex((u) => u.index === req.index && u.begin === req.begin && u.length === req.length)
    if (i !== -1) peer.uploads.splice(i, 1)
  }

  /** We choked the peer: its queued requests will not be served (BEP6 peers are told so). */
  clear (peer: Peer): void {
    if (peer.wire.peerSupportsFast) for (const u of peer.uploads) peer.wire.send({ type: 'reject', ...u })
    peer.uploads.length = 0
  }

  pump (peer: Peer): void {
    while (peer.uploadsInFlight < READS_PER_PEER && peer.uploads.length > 0 && !peer.wire.writableNeedDrain) {
      const req = peer.uploads.shift()!
      const cached = this.storage.cachedRange(req.index, req.begin, req.length)
      if (cached !== null) {
        this.send(peer, req, cached)
        continue
      }
      this.fetch(peer, req, true)
    }
  }

  /**
   * A block the read cache lacks. load() lets the cache reuse the window's buffer once every
   * socket has sent what it held, so the block must reach the socket in the same tick as
   * cachedRange() gives it. When the cache has no room (its budget is all in reads in flight and
   * buffers not yet sent) or the window left it before we looked, only the block is read.
   */
  private fetch (peer: Peer, req: BlockRequest, viaCache: boolean): void {
    peer.uploadsInFlight++
    const fetched: Promise<Buffer | boolean> = viaCache ? this.storage.load(req.index, req.begin, req.length) : this.storage.readDirect(req.index, req.begin, req.length)
    fetched.then((block) => {
      peer.uploadsInFlight--
      if (peer.wire.destroyed || peer.amChoking) return
      const data = typeof block === 'boolean' ? this.storage.cachedRange(req.index, req.begin, req.length) : block
      if (data === null) {
        this.fetch(peer, req, false)
        return
      }
      this.send(peer, req, data)
      this.pump(peer)
    }, (err: Error) => {
      peer.uploadsInFlight--
      this.onError(err)
    })
  }

  private send (peer: Peer, req: BlockRequest, block: Buffer): void {
    peer.wire.send({ type: 'piece', index: req.index, begin: req.begin, block })
    peer.upload.add(block.length)
  }
}
