import type { Metainfo } from '../metainfo/types.js'
import { HASH_SIZE, filePieceCount } from '../metainfo/merkle.js'
import type { HashMessage, HashRange } from '../wire/hash-messages.js'
import { TrackerlessError } from '../errors.js'
import { hasLayer, layerRequests, needsPieceLayers, provenHashes } from './layer-requests.js'
import { refuseV2Only } from '../metainfo/v2-support.js'
import type { Peer } from './peer.js'

/** Most bytes of piece layers one torrent may need: a million pieces, as many as v1's 16 MiB
 *  metadata bound allows (a hostile info dict may claim files of petabytes). */
export const MAX_LAYER_BYTES = 32 * 1024 * 1024
/** Hash requests outstanding at one peer (64 KiB of answers at most). */
export const LAYER_REQUESTS_PER_PEER = 4
/** A request unanswered for this long goes to another peer. */
export const LAYER_REQUEST_TIMEOUT = 10_000
/** The fetch gives up when no answer has been accepted for this long. */
export const LAYER_IDLE_TIMEOUT = 30_000

/** Stable reasons a peer is dropped for its answers (tests and ban lists show them). */
export const BAD_PROOF = 'sent piece layer hashes that do not prove the file root'
export const UNASKED_HASHES = 'sent hashes that were not asked for'

export interface PieceLayerFetchOptions<P> {
  meta: Metainfo
  /** The swarm's connected peers (read at each step; the set may change between them). */
  peers: Iterable<P>
  /** The peer speaks BEP52 hash messages: only those are asked. */
  speaksV2: (peer: P) => boolean
  send: (peer: P, msg: HashMessage) => void
  /** The peer answered wrongly: disconnect it, and with `ban`, never again. */
  drop: (peer: P, reason: string, ban: boolean) => void
  /** Every layer fetched and proven, by hex root; or why the fetch gave up. */
  finish: (result: Map<string, Buffer> | TrackerlessError) => void
  requestTimeout?: number
  idleTimeout?: number
}

interface Job {
  range: HashRange
  key: string
  layer: Buffer
  fileLength: number
  done: boolean
  /** Peers asked it whose time is not up. */
  live: number
  /** Peers that rejected it, let it time out, or answered it wrongly. */
  tried: WeakSet<object>
}

interface Asked { job: Job, timer: NodeJS.Timeout | null }

function keyOf (r: HashRange): string {
  return `${r.root.toString('hex')}/${r.baseLayer}/${r.index}/${r.length}/${r.proofLayers}`
}

/**
 * BEP52 after BEP9: the piece layers of a v2-only torrent's multi-piece files, fetched by hash
 * requests from the peers that speak v2 and each answer proven against the file's root before a
 * byte of it is kept. Requests are dealt to the peers in turn (LAYER_REQUESTS_PER_PEER each at most); a reject,
 * a timeout or a wrong answer sends the request to another peer. A peer whose hashes do not prove
 * the root is banned; one that sends hashes nobody asked it for is disconnected. Memory is the
 * layers themselves (bounded by MAX_LAYER_BYTES) and the requests in flight.
 */
export class PieceLayerFetch<P extends object> {
  private readonly opts: PieceLayerFetchOptions<P>
  private readonly layers = new Map<string, Buffer>()
  private readonly queue: Job[] = []
  private readonly asked = new Map<P, Map<string, Asked>>()
  private remaining = 0
  private idle: NodeJS.Timeout | null = null
  private closed = false
  private tooLarge: TrackerlessError | null = null

  constructor (opts: PieceLayerFetchOptions<P>) {
    this.opts = opts
    const { meta } = opts
    const files = meta.files.filter((f) => hasLayer(f, meta.pieceLength))
    const bytes = files.reduce((sum, f) => sum + filePieceCount(f.length, meta.pieceLength) * HASH_SIZE, 0)
    if (bytes > MAX_LAYER_BYTES) {
      this.tooLarge = new TrackerlessError('EUNSUPPORTED', `${JSON.stringify(meta.name)} needs ${bytes} bytes of piece layers, more than the ${MAX_LAYER_BYTES} this client keeps; use a torrent with larger pieces`)
      return
    }
    for (const file of files) {
      const hex = file.root.toString('hex')
      const known = meta.pieceLayers?.get(hex)
      if (known !== undefined) {
        this.layers.set(hex, known)
        continue
      }
      if (this.layers.has(hex)) continue
      const layer = Buffer.alloc(filePieceCount(file.length, meta.pieceLength) * HASH_SIZE)
      this.layers.set(hex, layer)
      for (const range of layerRequests(file.root, file.length, meta.pieceLength)) {
        this.queue.push({ range, key: keyOf(range), layer, fileLength: file.length, done: false, live: 0, tried: new WeakSet() })
        this.remaining++
      }
    }
  }

  /** Sends the first requests (or finishes at once when nothing is missing). */
  start (): void {
    if (this.closed) return
    const tooLarge = this.tooLarge
    // Later, so that the caller holds the fetch before its end is told.
    if (tooLarge !== null) return queueMicrotask(() => this.end(tooLarge))
    if (this.remaining === 0) return this.end(this.layers)
    this.arm()
    this.pump()
  }

  /** A peer joined or may ask more: give out what waits, one request per peer in turn. */
  pump (): void {
    for (let given = true; given && !this.closed && this.queue.length > 0;) {
      given = false
      for (const peer of this.opts.peers) {
        if (this.opts.speaksV2(peer) && this.give(peer)) given = true
      }
    }
  }

  private give (peer: P): boolean {
    let mine = this.asked.get(peer)
    if ((mine?.size ?? 0) >= LAYER_REQUESTS_PER_PEER) return false
    const at = this.queue.findIndex((job) => !job.done && !job.tried.has(peer) && mine?.has(job.key) !== true)
    if (at === -1) return false
    const job = this.queue.splice(at, 1)[0]!
    if (mine === undefined) this.asked.set(peer, mine = new Map())
    const entry: Asked = { job, timer: null }
    job.live++
    entry.timer = setTimeout(() => this.expire(peer, entry), this.opts.requestTimeout ?? LAYER_REQUEST_TIMEOUT).unref()
    mine.set(job.key, entry)
    this.opts.send(peer, { type: 'hash-request', ...job.range })
    return true
  }

  /** A `hashes` or `hash reject` from a peer (hash requests are the hash server's). */
  onMessage (peer: P, msg: HashMessage): void {
    if (this.closed || msg.type === 'hash-request') return
    const mine = this.asked.get(peer)
    const key = keyOf(msg)
    const entry = mine?.get(key)
    if (entry === undefined) {
      // A reject of something not asked costs nothing; hashes nobody asked for are a peer's way
      // of making us hash (or keep) what it likes.
      if (msg.type === 'hashes') this.fail(peer, UNASKED_HASHES, false)
      return
    }
    mine!.delete(key)
    this.settle(entry)
    const { job } = entry
    if (msg.type === 'hash-reject') {
      this.retry(job, peer)
    } else {
      const proven = provenHashes(job.range, msg.hashes, job.fileLength, this.opts.meta.pieceLength)
      if (proven === null) {
        this.retry(job, peer)
        this.fail(peer, BAD_PROOF, true)
        return
      }
      this.accept(job, proven)
    }
    this.pump()
  }

  /** The peer left: what it was asked goes to others. */
  remove (peer: P): void {
    const mine = this.asked.get(peer)
    if (mine === undefined) return
    this.asked.delete(peer)
    for (const entry of mine.values()) {
      this.settle(entry)
      this.retry(entry.job, null)
    }
    this.pump()
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.idle !== null) clearTimeout(this.idle)
    for (const mine of this.asked.values()) for (const { timer } of mine.values()) if (timer !== null) clearTimeout(timer)
    this.asked.clear()
    this.queue.length = 0
  }

  private accept (job: Job, proven: Buffer): void {
    if (job.done) return
    job.done = true
    proven.copy(job.layer, job.range.index * HASH_SIZE)
    this.arm()
    if (--this.remaining === 0) this.end(this.layers)
  }

  /** The entry's time is no longer counted (answered, gone or up). */
  private settle (entry: Asked): void {
    if (entry.timer === null) return
    clearTimeout(entry.timer)
    entry.timer = null
    entry.job.live--
  }

  /** Unless another peer has it in time, the request goes back to the queue (at the front: it is
   *  the oldest), not to `peer` again. */
  private retry (job: Job, peer: P | null): void {
    if (peer !== null) job.tried.add(peer)
    if (!job.done && job.live === 0 && !this.queue.includes(job)) this.queue.unshift(job)
  }

  /** Unanswered in time: another peer gets it; the late answer is still taken if it proves. The
   *  entry stays among the peer's requests, so a peer that does not answer is asked no more. */
  private expire (peer: P, entry: Asked): void {
    this.settle(entry)
    this.retry(entry.job, peer)
    this.pump()
  }

  private fail (peer: P, reason: string, ban: boolean): void {
    this.remove(peer)
    this.opts.drop(peer, reason, ban)
  }

  private arm (): void {
    if (this.idle !== null) clearTimeout(this.idle)
    const ms = this.opts.idleTimeout ?? LAYER_IDLE_TIMEOUT
    const v2 = (): number => [...this.opts.peers].filter((p) => this.opts.speaksV2(p)).length
    this.idle = setTimeout(() => this.end(new TrackerlessError('ETIMEDOUT',
      `no peer sent the piece layers of ${JSON.stringify(this.opts.meta.name)} for ${ms} ms (${v2()} connected peers speak BitTorrent v2); ` +
      'check that a peer seeds this v2 torrent, or open it from its .torrent file, which carries them')), ms).unref()
  }

  private end (result: Map<string, Buffer> | TrackerlessError): void {
    if (this.closed) return
    this.close()
    this.opts.finish(result)
  }
}

/**
 * What a swarm does once BEP9 delivered `meta`: when it is a v2-only torrent, fetches its piece
 * layers from `peers` (the swarm routes their answers, arrivals and departures to the fetch it
 * returns) and calls `ready` with the metainfo completed; else calls `ready` at once and returns
 * null. Either way a v2-only torrent this version cannot download is refused there
 * (v2-support.ts). `ban` is the connections' (the reason is kept in the ban list).
 */
export function withPieceLayers (meta: Metainfo, peers: Set<Peer>, ban: (peer: Peer, reason: string) => void, ready: (meta: Metainfo | Error) => void): PieceLayerFetch<Peer> | null {
  const opened = (full: Metainfo): void => {
    try {
      refuseV2Only(full)
    } catch (err) {
      return ready(err as Error)
    }
    ready(full)
  }
  if (!needsPieceLayers(meta)) {
    opened(meta)
    return null
  }
  const fetch = new PieceLayerFetch<Peer>({
    meta,
    peers,
    finish: (layers) => layers instanceof Error ? ready(layers) : opened({ ...meta, pieceLayers: layers }),
    // Only v2 peers share a v2-only torrent's infohash, and libtorrent 2.0.8 answers hash
    // requests without setting the v2 bit in its handshake: every peer is asked.
    speaksV2: (peer) => meta.version === 2 || peer.wire.peerSupportsV2,
    send: (peer, msg) => peer.send(msg),
    drop: (peer, reason, banned) => {
      if (banned) ban(peer, reason)
      else peer.destroy(new TrackerlessError('EPROTO', `peer ${peer.address} ${reason}; disconnected`))
    }
  })
  fetch.start()
  return fetch
}
