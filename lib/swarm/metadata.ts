import { createHash } from 'node:crypto'
import { BLOCK_SIZE } from '../wire/messages.js'
import { encodeMetadataMessage, decodeMetadataMessage } from '../wire/ut-metadata.js'
import type { InfoHash } from '../util/ids.js'
import type { Peer } from './peer.js'

/** Larger info dictionaries are refused: libtorrent's default limit is smaller still. */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024
const REQUEST_TIMEOUT = 10_000
const REQUESTS_PER_PEER = 4

interface Slot { data: Buffer | null, peer: Peer | null, at: number }

/**
 * BEP9: fetches the info dictionary from every peer that offers it, one 16 KiB piece per request
 * spread over the peers, and checks it against the infohash; serves it once known.
 */
export class MetadataExchange {
  info: Buffer | null
  private readonly infoHash: InfoHash
  private readonly onComplete: (info: Buffer) => void
  private size = 0
  private slots: Slot[] = []
  private readonly sources = new Set<Peer>()
  private timer: NodeJS.Timeout | null = null

  constructor (infoHash: InfoHash, info: Buffer | null, onComplete: (info: Buffer) => void) {
    this.infoHash = infoHash
    this.info = info
    this.onComplete = onComplete
  }

  /** The peer's extended handshake arrived: use it as a source if it has the metadata. */
  addPeer (peer: Peer): void {
    const ext = peer.wire.peerExtensions
    const size = ext?.metadataSize
    if (this.info !== null || ext?.m.ut_metadata === undefined || size === undefined) return
    if (size <= 0 || size > MAX_METADATA_SIZE) return
    if (this.size === 0) this.reset(size)
    if (size !== this.size) return
    this.sources.add(peer)
    if (this.timer === null) {
      this.timer = setInterval(() => this.expire(), REQUEST_TIMEOUT / 2)
      this.timer.unref()
    }
    this.pump()
  }

  removePeer (peer: Peer): void {
    if (!this.sources.delete(peer)) return
    for (const slot of this.slots) if (slot.peer === peer && slot.data === null) slot.peer = null
    this.pump()
  }

  onMessage (peer: Peer, payload: Buffer): void {
    const msg = decodeMetadataMessage(payload)
    if (msg === null) return
    if (msg.type === 'request') {
      this.serve(peer, msg.piece)
      return
    }
    const slot = this.slots[msg.piece]
    if (this.info !== null || slot === undefined || slot.peer !== peer) return
    if (msg.type === 'reject') {
      // It does not have the metadata (yet): stop asking it, ask the others.
      this.removePeer(peer)
      return
    }
    const expected = Math.min(BLOCK_SIZE, this.size - msg.piece * BLOCK_SIZE)
    if (msg.totalSize !== this.size || msg.data.length !== expected) {
      peer.destroy(new Error('peer sent metadata of the wrong size'))
      return
    }
    slot.data = Buffer.from(msg.data)
    slot.peer = null
    if (this.slots.every((s) => s.data !== null)) this.finish()
    else this.pump()
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.sources.clear()
  }

  private serve (peer: Peer, piece: number): void {
    const info = this.info
    if (info === null || piece < 0 || piece * BLOCK_SIZE >= info.length) {
      peer.wire.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'reject', piece }))
      return
    }
    const data = info.subarray(piece * BLOCK_SIZE, (piece + 1) * BLOCK_SIZE)
    peer.wire.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'data', piece, totalSize: info.length, data }))
  }

  private reset (size: number): void {
    this.size = size
    this.slots = Array.from({ length: Math.ceil(size / BLOCK_SIZE) }, () => ({ data: null, peer: null, at: 0 }))
  }

  /** Gives each unrequested piece to the source with the fewest requests out. */
  private pump (): void {
    const load = new Map<Peer, number>()
    for (const peer of this.sources) load.set(peer, 0)
    for (const slot of this.slots) if (slot.peer !== null) load.set(slot.peer, (load.get(slot.peer) ?? 0) + 1)
    this.slots.forEach((slot, piece) => {
      if (slot.data !== null || slot.peer !== null) return
      let best: Peer | null = null
      for (const [peer, n] of load) if (n < REQUESTS_PER_PEER && (best === null || n < load.get(best)!)) best = peer
      if (best === null) return
      load.set(best, load.get(best)! + 1)
      slot.peer = best
      slot.at = Date.now()
      best.wire.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'request', piece }))
    })
  }

  private expire (): void {
    const now = Date.now()
    for (const slot of this.slots) {
      if (slot.data === null && slot.peer !== null && now - slot.at > REQUEST_TIMEOUT) {
        this.sources.delete(slot.peer)
        slot.peer = null
      }
    }
    this.pump()
  }

  private finish (): void {
    const info = Buffer.concat(this.slots.map((s) => s.data!))
    const hash = createHash('sha1').update(info).digest()
    if (!hash.equals(this.infoHash)) {
      // Someone lied. With one source it is known; otherwise start over and hope for better peers.
      if (this.sources.size === 1) for (const peer of this.sources) peer.destroy(new Error('peer sent metadata that does not match the infohash'))
      this.reset(this.size)
      this.pump()
      return
    }
    this.info = info
    this.close()
    this.onComplete(info)
  }
}
