import { createHash } from 'node:crypto'
import { BLOCK_SIZE } from '../wire/messages.js'
import { encodeMetadataMessage, decodeMetadataMessage } from '../wire/ut-metadata.js'
import type { InfoHash } from '../util/ids.js'
import type { Peer } from './peer.js'
import { TrackerlessError } from '../errors.js'

/** Larger info dictionaries are refused: libtorrent's default limit is smaller still. */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024
const REQUEST_TIMEOUT = 10_000
const REQUESTS_PER_PEER = 4

/** `peer`: asked for it and not yet answered; `from`: who sent the data we hold. */
interface Slot { data: Buffer | null, peer: Peer | null, at: number, from: Peer | null }

/**
 * BEP9: fetches the info dictionary from every peer that offers it, one 16 KiB piece per request
 * spread over the peers, and checks it against the infohash; serves it once known.
 *
 * Peers may lie. Metadata that fails the hash and came from one peer convicts that peer (`onLiar`,
 * which bans it); when several contributed, every later attempt takes all pieces from one peer, so
 * the next failure convicts. Peers announcing another size than the one being fetched are kept
 * aside and used once no source of that size is left, so a liar's size cannot lock honest peers out.
 */
export class MetadataExchange {
  info: Buffer | null
  private readonly infoHash: InfoHash
  private readonly onComplete: (info: Buffer) => void
  private size = 0
  private slots: Slot[] = []
  /** Peers asked for pieces of metadata of `size` bytes. */
  private readonly sources = new Set<Peer>()
  /** Every peer offering metadata, with the size it announced. */
  private readonly offers = new Map<Peer, number>()
  private readonly onLiar: (peer: Peer) => void
  /** After a failure with several contributors: one source at a time. */
  private solo = false
  private timer: NodeJS.Timeout | null = null

  constructor (infoHash: InfoHash, info: Buffer | null, onComplete: (info: Buffer) => void, onLiar: (peer: Peer) => void) {
    this.infoHash = infoHash
    this.info = info
    this.onComplete = onComplete
    this.onLiar = onLiar
  }

  /** The peer's extended handshake arrived: use it as a source if it has the metadata. */
  addPeer (peer: Peer): void {
    const ext = peer.wire.peerExtensions
    const size = ext?.metadataSize
    if (this.info !== null || ext?.m.ut_metadata === undefined || size === undefined) return
    if (size <= 0 || size > MAX_METADATA_SIZE) return
    this.offers.set(peer, size)
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
    this.offers.delete(peer)
    if (!this.sources.delete(peer)) return
    for (const slot of this.slots) if (slot.peer === peer && slot.data === null) slot.peer = null
    if (this.sources.size === 0) this.switchSize()
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
      peer.destroy(new TrackerlessError('EPROTO', `peer ${peer.address} sent metadata of another size than it announced; disconnected`))
      return
    }
    slot.data = Buffer.from(msg.data)
    slot.from = peer
    slot.peer = null
    if (this.slots.every((s) => s.data !== null)) this.finish()
    else this.pump()
  }

  close (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.sources.clear()
    this.offers.clear()
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
    this.slots = Array.from({ length: Math.ceil(size / BLOCK_SIZE) }, () => ({ data: null, peer: null, at: 0, from: null }))
  }

  /** No source of the current size is left: fetch the size another peer announced, if any. */
  private switchSize (): void {
    const next = this.offers.values().next()
    if (next.done === true) {
      this.size = 0
      this.slots = []
      return
    }
    this.reset(next.value)
    for (const [peer, size] of this.offers) if (size === next.value) this.sources.add(peer)
  }

  /** Gives each unrequested piece to the source with the fewest requests out. */
  private pump (): void {
    const load = new Map<Peer, number>()
    for (const peer of this.sources) {
      load.set(peer, 0)
      if (this.solo) break
    }
    for (const slot of this.slots) if (slot.peer !== null && load.has(slot.peer)) load.set(slot.peer, load.get(slot.peer)! + 1)
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
        this.offers.delete(slot.peer)
        slot.peer = null
      }
    }
    if (this.sources.size === 0 && this.info === null) this.switchSize()
    this.pump()
  }

  private finish (): void {
    const info = Buffer.concat(this.slots.map((s) => s.data!))
    const hash = createHash('sha1').update(info).digest()
    if (!hash.equals(this.infoHash)) {
      const contributors = new Set(this.slots.map((s) => s.from))
      this.reset(this.size)
      if (contributors.size === 1) {
        for (const liar of contributors) {
          this.offers.delete(liar!)
          this.sources.delete(liar!)
          this.onLiar(liar!)
        }
        if (this.sources.size === 0) this.switchSize()
      } else {
        this.solo = true
      }
      this.pump()
      return
    }
    this.info = info
    this.close()
    this.onComplete(info)
  }
}
