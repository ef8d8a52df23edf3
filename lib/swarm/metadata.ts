import { encodeMetadataMessage, decodeMetadataMessage } from '../wire/ut-metadata.js'
import { BLOCK_SIZE } from '../wire/messages.js'
import type { Peer } from './peer.js'
import { TrackerlessError } from '../errors.js'
import { MetadataAttempt } from './metadata-attempt.js'
import { DEFAULT_LIMITS } from './connection-slots.js'
import { infoMatches } from './swarm-hashes.js'

/** Larger info dictionaries are refused: room for about 800,000 piece hashes (libtorrent's default
 *  max_metadata_size is 30 MiB; bench/README.md, Scale, fetches one of 65,536 pieces). */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024
/** Sizes fetched at once: each holds a buffer of up to MAX_METADATA_SIZE. Honest peers agree on
 *  one size, so more than one is a liar's; three leave room for two liars and the truth. */
const MAX_ATTEMPTS = 3

/**
 * BEP9: fetches the info dictionary from every peer that offers it, one 16 KiB piece per request
 * spread over the peers, and checks it against the infohash (SHA-1, or SHA-256 for a v2 infohash:
 * swarm-hashes.ts); serves it once known.
 *
 * Peers may lie, about the size or the bytes, or answer so slowly that they hold up the rest.
 * Each size announced is fetched in parallel with the others (up to MAX_ATTEMPTS; more wait for
 * a place) from the peers that announced it, and the first to hash to the infohash wins, so a
 * liar's size cannot hold up the true one. A peer that leaves a request unanswered for the request
 * timeout is not asked again, and its pieces go to the other sources of that size: a slow liar
 * delays the honest ones by one timeout at most. Metadata that fails the hash and came from one
 * peer convicts that peer (`onLiar`, which bans it); when several contributed, every later try of
 * that size takes all pieces from one peer, so the next failure convicts.
 */
export class MetadataExchange {
  info: Buffer | null
  /** 20 bytes (v1, or a v2 hash truncated) or the full 32-byte v2 infohash of a btmh magnet. */
  private readonly infoHash: Buffer
  private readonly onComplete: (info: Buffer) => void
  private readonly onLiar: (peer: Peer) => void
  private readonly timeout: number
  /** Every peer offering metadata and still asked, with the size it announced. */
  private readonly offers = new Map<Peer, number>()
  /** The sizes being fetched. */
  private readonly attempts = new Map<number, MetadataAttempt<Peer>>()
  /** Peers that let a request time out: not asked again, even if they announce anew. */
  private readonly late = new WeakSet<Peer>()
  private timer: NodeJS.Timeout | null = null

  constructor (infoHash: Buffer, info: Buffer | null, onComplete: (info: Buffer) => void, onLiar: (peer: Peer) => void, requestTimeout: number = DEFAULT_LIMITS.metadataTimeout) {
    this.infoHash = infoHash
    this.info = info
    this.onComplete = onComplete
    this.onLiar = onLiar
    this.timeout = requestTimeout
  }

  /** The peer's extended handshake (or an update of it) arrived: use it as a source if it has the metadata. */
  addPeer (peer: Peer): void {
    const ext = peer.wire.peerExtensions
    const size = ext?.metadataSize
    if (this.info !== null || this.late.has(peer) || ext?.m.ut_metadata === undefined || size === undefined) return
    if (size <= 0 || size > MAX_METADATA_SIZE || this.offers.get(peer) === size) return
    this.forget(peer)
    this.offers.set(peer, size)
    this.attempts.get(size)?.sources.add(peer)
    this.update()
  }

  removePeer (peer: Peer): void {
    this.forget(peer)
    this.update()
  }

  onMessage (peer: Peer, payload: Buffer): void {
    const msg = decodeMetadataMessage(payload)
    if (msg === null) return
    if (msg.type === 'request') {
      this.serve(peer, msg.piece)
      return
    }
    const attempt = this.attempts.get(this.offers.get(peer) ?? 0)
    if (this.info !== null || attempt === undefined || !attempt.awaits(peer, msg.piece)) return
    if (msg.type === 'reject') {
      // It does not have the metadata (yet): stop asking it, ask the others.
      this.removePeer(peer)
      return
    }
    if (msg.totalSize !== attempt.size || msg.data.length !== attempt.pieceLength(msg.piece)) {
      peer.destroy(new TrackerlessError('EPROTO', `peer ${peer.address} sent metadata of another size than it announced; disconnected`))
      return
    }
    attempt.store(peer, msg.piece, msg.data)
    peer.receivedAt = Date.now()
    if (attempt.complete) this.check(attempt)
    if (this.info === null) this.update()
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.attempts.clear()
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

  /** Takes `peer` out of its size's attempt and the offers; an attempt left without sources ends. */
  private forget (peer: Peer): void {
    const size = this.offers.get(peer)
    if (size === undefined) return
    this.offers.delete(peer)
    const attempt = this.attempts.get(size)
    if (attempt === undefined) return
    attempt.drop(peer)
    if (attempt.sources.size === 0) this.attempts.delete(size)
  }

  /** Starts waiting sizes while there is room, asks for what is unasked, and sets the timer. */
  private update (): void {
    if (this.info !== null) return
    while (this.attempts.size < MAX_ATTEMPTS) {
      const size = this.nextSize()
      if (size === null) break
      const attempt = new MetadataAttempt<Peer>(size)
      for (const [peer, offered] of this.offers) if (offered === size) attempt.sources.add(peer)
      this.attempts.set(size, attempt)
    }
    for (const attempt of this.attempts.values()) attempt.pump(this.request)
    this.schedule()
  }

  /** The waiting size most peers announced (honest peers agree); the smaller on a tie. */
  private nextSize (): number | null {
    const votes = new Map<number, number>()
    for (const size of this.offers.values()) if (!this.attempts.has(size)) votes.set(size, (votes.get(size) ?? 0) + 1)
    let best: number | null = null
    for (const [size, n] of votes) if (best === null || n > votes.get(best)! || (n === votes.get(best)! && size < best)) best = size
    return best
  }

  private readonly request = (peer: Peer, piece: number): void => {
    peer.wire.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'request', piece }))
  }

  /** One timer, for the oldest request out: it fires when that request times out, not later. */
  private schedule (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    let oldest: number | null = null
    for (const attempt of this.attempts.values()) {
      const at = attempt.oldestRequest
      if (at !== null && (oldest === null || at < oldest)) oldest = at
    }
    if (oldest === null) return
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest + this.timeout - Date.now()))
    this.timer.unref()
  }

  private expire (): void {
    this.timer = null
    for (const attempt of this.attempts.values()) {
      for (const peer of attempt.expire(this.timeout)) {
        this.late.add(peer)
        this.forget(peer)
      }
    }
    this.update()
  }

  private check (attempt: MetadataAttempt<Peer>): void {
    const { info, contributors } = attempt.take()
    if (infoMatches(info, this.infoHash)) {
      this.info = info
      this.close()
      this.onComplete(info)
      return
    }
    if (contributors.size > 1) {
      attempt.solo = true
      return
    }
    for (const liar of contributors) {
      this.forget(liar)
      this.onLiar(liar)
    }
  }
}
