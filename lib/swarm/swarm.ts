import { EventEmitter } from 'node:events'
import { Wire } from '../wire/wire.js'
import { youripField } from '../wire/extended.js'
import { dialWire } from '../wire/peer-socket.js'
import { BLOCK_SIZE, EXTENSIONS, type ExtensionName } from '../wire/messages.js'
import type { Handshake } from '../wire/handshake.js'
import { parseInfo } from '../metainfo/torrent.js'
import { parsePeerAddress } from '../metainfo/magnet.js'
import type { Metainfo } from '../metainfo/types.js'
import { TorrentStorage } from '../storage/torrent-storage.js'
import type { StorageFactory } from '../storage/types.js'
import { storageFor } from '../storage/factories.js'
import { reusePieces, type PieceSource } from '../storage/reuse.js'
import { Bitfield } from '../util/bitfield.js'
import type { InfoHash, PeerId } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { PiecePicker } from './picker.js'
import { Scheduler } from './scheduler.js'
import { Uploader } from './uploader.js'
import { Rechoker } from './rechoker.js'
import { MetadataExchange } from './metadata.js'
import { Peer, requestKey, type BlockRequest, type PeerHost } from './peer.js'
import type { PartialPiece } from './partial-piece.js'
import type { ConnectionSlots } from './connection-slots.js'
import { PeerList, type PeerSource } from './peer-list.js'
import { admit } from './eviction.js'
import { PeerExchange } from '../discovery/pex.js'
import { formatAddress, isLocalAddress } from '../discovery/address.js'

export interface SwarmOptions {
  infoHash: InfoHash
  peerId: PeerId
  /** Our TCP listen port, told to peers in the extended handshake. */
  port: number
  /** Known up front from a .torrent; null for a magnet link until BEP9 delivers it. */
  metainfo: Metainfo | null
  storage: StorageFactory
  /** 'all' fetches every piece rarest-first; 'lazy' only what reads ask for. */
  download: 'all' | 'lazy'
  /** Keep uploading once complete. */
  seed: boolean
  /** The data is known to be complete (we just hashed it to create the torrent): skip the scan. */
  complete?: boolean
  /** Another version of this archive that we hold: pieces it has under the same hash are copied
   *  from it after the scan instead of downloaded (BEP46 updates). */
  reuse?: PieceSource
  memoryBudget?: number
  maxPeers?: number
  /** The client-wide connection cap this swarm shares with the client's other swarms. */
  slots?: ConnectionSlots
  /** BEP11 peer exchange (default true). */
  pex?: boolean
  clientName: string
}

export interface SwarmEvents {
  metadata: [Metainfo]
  ready: []
  piece: [number]
  done: []
  peer: [string]
  error: [Error]
}

/** Partial pieces held at once: about a full request window at loopback speed (500 x 16 KiB). */
const DEFAULT_MEMORY = 8 * 1024 * 1024
const MAX_REQUEST = 128 * 1024
/** Requests we accept from one peer (our BEP10 reqq). */
const UPLOAD_QUEUE = 500
/** Seconds of transfer at the peer's current rate that we keep requested. */
const QUEUE_SECONDS = 1
const MIN_QUEUE = 16
const START_QUEUE = 128
const STALL_TIMEOUT = 30_000
const CONNECT_TIMEOUT = 5_000
/** Discovery keeps looking for peers while a torrent has fewer than this (or its maxPeers). */
const WANTED_PEERS = 30

/**
 * One torrent's peers: who is connected, what they have, what we ask of them, what they ask of
 * us. Blocks come in through Peer, are assembled by the Scheduler, verified and written by
 * TorrentStorage, and announced to every peer at once.
 */
export class Swarm extends EventEmitter<SwarmEvents> implements PeerHost {
  readonly infoHash: InfoHash
  metainfo: Metainfo | null
  storage: TorrentStorage | null = null
  have: Bitfield | null = null
  readonly peers = new Set<Peer>()
  /** What the client-wide cap may evict from (ConnectionSlots.rooms). */
  private readonly room = { peers: this.peers, forget: (peer: Peer) => this.onClose(peer) }
  /** Bytes of piece data received from peers, verified or not. */
  downloaded = 0
  /** Bytes sent to peers that have left; `uploaded` adds those still here. */
  private uploadedByGone = 0
  private picker: PiecePicker | null = null
  private scheduler: Scheduler | null = null
  private uploader: Uploader | null = null
  private readonly rechoker: Rechoker
  private readonly metadata: MetadataExchange
  private readonly opts: SwarmOptions
  private readonly dialing = new Set<string>()
  private readonly pending = new Set<Wire>()
  private readonly banned = new Set<string>()
  private readonly strikes = new Map<Peer, number>()
  private readonly waiters = new Map<number, Array<(err?: Error) => void>>()
  /** Peers told our pieces; the rest get them once storage is ready. */
  private readonly informed = new WeakSet<Peer>()
  /** Peers told HAVE-NONE before we had metadata: later they can only get HAVEs. */
  private readonly saidNone = new WeakSet<Peer>()
  private readonly stallTimer: NodeJS.Timeout
  private readonly pex: PeerExchange<Peer> | null
  private readonly peerList: PeerList
  /** The first failed piece write (disk full, read-only folder): downloading stops for good. */
  private writeError: Error | null = null
  private closed = false

  constructor (opts: SwarmOptions) {
    super()
    this.opts = opts
    this.infoHash = opts.infoHash
    this.metainfo = opts.metainfo
    opts.slots?.rooms.add(this.room)
    this.rechoker = new Rechoker(this.peers, () => this.have?.full === true, (peer) => this.uploader?.clear(peer))
    this.metadata = new MetadataExchange(opts.infoHash, opts.metainfo?.info ?? null, (info) => this.onMetadata(info), (peer) => this.ban(peer), opts.slots?.limits.metadataTimeout)
    this.stallTimer = setInterval(() => this.releaseStalled(), STALL_TIMEOUT / 3)
    this.stallTimer.unref()
    this.peerList = new PeerList({ redial: (address, source) => this.connect(address, source) !== 'full' })
    this.pex = opts.pex === false
      ? null
      : new PeerExchange<Peer>({ connect: (address) => this.connect(address, 'discovered'), isSeed: () => this.have?.full === true })
    if (this.metainfo !== null) this.open(this.metainfo).catch((err: Error) => this.emit('error', err))
  }

  get ready (): boolean {
    return this.picker !== null
  }

  /** Bytes of piece data sent to peers. */
  get uploaded (): number {
    let total = this.uploadedByGone
    for (const peer of this.peers) total += peer.upload.total
    return total
  }

  get progress (): number {
    if (this.have === null) return 0
    return this.have.length === 0 ? 1 : this.have.count / this.have.length
  }

  /** Discovery should find more peers for this torrent. */
  get wantsPeers (): boolean {
    return !this.closed && this.peers.size + this.dialing.size < Math.min(WANTED_PEERS, this.opts.maxPeers ?? 50)
  }

  /**
   * Dial "host:port", unless it is us, a peer we have or are dialling, or a limit is reached.
   * A fifth of maxPeers is kept for `named` peers (the user's): peers that others told us of
   * ('discovered': DHT, LSD, PEX) cannot take it, so a flood of addresses that are slow to
   * fail leaves room to dial the peers the user gave.
   */
  connect (address: string, source: PeerSource = 'named'): 'dialled' | 'full' | 'skipped' {
    if (this.closed || this.dialing.has(address) || this.banned.has(address)) return 'skipped'
    for (const peer of this.peers) if (peer.address === address || this.pex?.addressOf(peer) === address) return 'skipped'
    const { host, port } = parsePeerAddress(address)
    if (port === this.opts.port && isLocalAddress(host)) return 'skipped'
    if (!this.peerList.add(address, source)) return 'full'
    const max = this.opts.maxPeers ?? 50
    if (this.peers.size + this.dialing.size >= (source === 'named' ? max : max - Math.ceil(max / 5))) return 'full'
    if (this.opts.slots !== undefined && !this.opts.slots.take()) return 'full'
    this.dialing.add(address)
    const wire = dialWire(host, port, { peerId: this.opts.peerId, connectTimeout: CONNECT_TIMEOUT })
    this.pending.add(wire)
    let shookAt = 0
    wire.once('close', () => {
      this.dialing.delete(address)
      this.pending.delete(wire)
      this.opts.slots?.give()
      // Not up yet, or gone: the peer list dials it again later (named peers as long as we run).
      if (shookAt === 0) this.peerList.failed(address)
      else this.peerList.ended(address, Date.now() - shookAt)
    })
    wire.once('handshake', (hs) => {
      shookAt = Date.now()
      this.dialing.delete(address)
      this.pending.delete(wire)
      this.attach(wire, hs, address, true)
    })
    wire.sendHandshake(this.infoHash, { extended: true, fast: true, dht: false })
    return 'dialled'
  }

  /** An incoming connection whose handshake named our infohash (the client's listener routes them). */
  accept (wire: Wire, hs: Handshake): void {
    if (this.closed || !admit(this.room, this.opts.maxPeers ?? 50, this.opts.slots)) {
      wire.destroy()
      return
    }
    const slots = this.opts.slots
    if (slots !== undefined) wire.once('close', () => slots.give())
    wire.sendHandshake(this.infoHash, { extended: true, fast: true, dht: false })
    this.attach(wire, hs, formatAddress(wire.remoteAddress ?? '?', wire.remotePort ?? 0), false)
  }

  /** Resolves when piece `index` is verified and stored; `prioritize` first for reads. An abort
   *  rejects with EABORTED and forgets the waiter. */
  waitForPiece (index: number, signal?: AbortSignal): Promise<void> {
    if (this.have?.get(index) === true) return Promise.resolve()
    if (this.writeError !== null) return Promise.reject(this.writeError)
    if (signal?.aborted === true) return Promise.reject(abortError())
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(index) ?? []
      const onAbort = (): void => {
        const at = list.indexOf(done)
        if (at !== -1) list.splice(at, 1)
        if (list.length === 0 && this.waiters.get(index) === list) this.waiters.delete(index)
        reject(abortError())
      }
      const done = (err?: Error): void => {
        signal?.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(err)
      }
      list.push(done)
      this.waiters.set(index, list)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Pieces [first, last] are fetched before anything else until the returned function is called. */
  prioritize (first: number, last: number): () => void {
    const scheduler = this.scheduler
    if (scheduler === null) return () => {}
    const handle = scheduler.prioritize(first, last)
    for (const peer of this.peers) this.updateInterest(peer)
    return () => scheduler.deprioritize(handle)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.opts.slots?.rooms.delete(this.room)
    this.rechoker.close()
    this.metadata.close()
    this.pex?.close()
    this.peerList.close()
    clearInterval(this.stallTimer)
    for (const wire of this.pending) wire.destroy()
    for (const peer of this.peers) peer.destroy()
    const err = new TrackerlessError('ECLOSED', 'the torrent was closed while a read waited for its data')
    for (const list of this.waiters.values()) for (const done of list) done(err)
    this.waiters.clear()
    await this.storage?.close()
  }

  // --- Setting up: metadata, storage, peers ---

  private onMetadata (info: Buffer): void {
    let meta: Metainfo
    try {
      meta = parseInfo(info, this.infoHash)
    } catch (err) {
      this.emit('error', err as Error)
      return
    }
    this.metainfo = meta
    this.emit('metadata', meta)
    this.open(meta).catch((err: Error) => this.emit('error', err))
  }

  private async open (meta: Metainfo): Promise<void> {
    const factory = await storageFor(this.opts.storage, meta)
    if (this.closed) return
    const storage = new TorrentStorage({
      layout: meta, name: meta.name, multiFile: meta.multiFile, pieceHashes: meta.pieceHashes, factory,
      reuseWhen: this.sentByAll
    })
    this.storage = storage
    let have: Bitfield
    if (this.opts.complete === true) {
      have = new Bitfield(meta.pieceCount)
      have.setAll()
    } else {
      have = await storage.scan()
      if (this.opts.reuse !== undefined && !this.closed) await reusePieces(this.opts.reuse, storage, meta.pieceHashes, have)
    }
    if (this.closed) return
    this.have = have
    const picker = new PiecePicker(meta.pieceCount, { have })
    if (this.opts.download === 'lazy') for (let i = 0; i < meta.pieceCount; i++) picker.setWanted(i, false)
    this.scheduler = new Scheduler(picker, {
      pieceLength: meta.pieceLength, pieceCount: meta.pieceCount, length: meta.length, memoryBudget: this.opts.memoryBudget ?? DEFAULT_MEMORY,
      padding: meta.files.filter((f) => f.pad)
    })
    this.uploader = new Uploader(storage, (err) => this.emit('error', err))
    this.picker = picker
    if (have.full) await storage.createEmptyFiles()
    for (const [index] of this.waiters) if (have.get(index)) this.resolveWaiters(index)
    this.emit('ready')
    if (have.full) this.emit('done')
    for (const peer of this.peers) {
      this.inform(peer)
      peer.setPieceCount(meta.pieceCount)
    }
  }

  /** A test that holds once every peer's socket has sent what it holds now: the blocks we
   *  uploaded by reference from a piece's buffer before then are no longer read. */
  private readonly sentByAll = (): (() => boolean) => {
    const marks = [...this.peers].map((peer) => ({ wire: peer.wire, mark: peer.wire.queuedBytes }))
    return () => marks.every(({ wire, mark }) => wire.hasSent(mark))
  }

  private attach (wire: Wire, hs: Handshake, address: string, outgoing: boolean): void {
    const id = hs.peerId.toString('hex')
    if (hs.peerId.equals(this.opts.peerId) || this.banned.has(id) || this.banned.has(address)) {
      this.peerList.remove(address)
      wire.destroy()
      return
    }
    for (const peer of this.peers) {
      if (peer.wire.peerId?.equals(hs.peerId) !== true) continue
      if (peer.outgoing === outgoing || this.keepsOutgoing(outgoing ? wire : peer.wire, hs.peerId) !== outgoing) {
        wire.destroy()
        return
      }
      peer.destroy()
    }
    const peer = new Peer(wire, address, outgoing, this)
    this.peers.add(peer)
    this.pex?.add(peer)
    wire.on('drain', () => this.uploader?.pump(peer))
    if (hs.extended) {
      wire.sendExtendedHandshake({
        m: { ...EXTENSIONS },
        v: this.opts.clientName,
        reqq: UPLOAD_QUEUE,
        p: this.opts.port,
        ...(this.metadata.info !== null ? { metadataSize: this.metadata.info.length } : {}),
        ...youripField(wire.remoteAddress),
        uploadOnly: this.have?.full === true
      })
    }
    if (this.picker !== null) {
      this.inform(peer)
      peer.setPieceCount(this.metainfo!.pieceCount)
    } else if (this.metainfo === null && wire.peerSupportsFast) {
      peer.send({ type: 'have-none' })
      this.saidNone.add(peer)
    }
    this.emit('peer', address)
  }

  /**
   * Two peers that dial each other at once each hold two connections to the other. Keeping the
   * first to finish its handshake, as both ends would, can leave each end keeping the one the
   * other drops, and then they lose both. libtorrent's rule makes both ends agree: the end with
   * the lower listening port keeps the connection it dialled. Equal ports (two hosts) fall back
   * to the lower peer id, which other trackerless ends agree on too. `dialled` is whichever of the
   * two connections we dialled: its remote port is the peer's listening port.
   */
  private keepsOutgoing (dialled: Wire, theirId: PeerId): boolean {
    const theirPort = dialled.remotePort ?? 0
    const ours = this.opts.port
    return ours !== theirPort ? ours < theirPort : Buffer.compare(this.opts.peerId, theirId) < 0
  }

  /** Tells a peer what we have: one message when it is the first thing we say, else HAVEs. */
  private inform (peer: Peer): void {
    if (this.informed.has(peer) || this.have === null) return
    this.informed.add(peer)
    const have = this.have
    if (this.saidNone.has(peer)) {
      for (let i = 0; i < have.length; i++) if (have.get(i)) peer.send({ type: 'have', index: i })
    } else if (peer.wire.peerSupportsFast && have.full) {
      peer.send({ type: 'have-all' })
    } else if (peer.wire.peerSupportsFast && have.empty) {
      peer.send({ type: 'have-none' })
    } else if (!have.empty) {
      peer.send({ type: 'bitfield', bitfield: Buffer.from(have.buffer) })
    }
  }

  // --- PeerHost: what peers tell us ---

  onAvailable (peer: Peer, index: number): void {
    const picker = this.picker!
    if (index === -1) {
      if (peer.isSeed) picker.addSeed()
      else picker.addPeer(peer.bitfield!)
      this.scheduler?.keepHeld(peer)
    } else {
      picker.peerHas(peer.bitfield!, index)
    }
    this.updateInterest(peer)
  }

  onUnavailable (peer: Peer): void {
    if (!peer.availabilityKnown || this.picker === null) return
    if (peer.isSeed) this.picker.removeSeed()
    else this.picker.removePeer(peer.bitfield!)
  }

  onChoked (peer: Peer): void {
    this.scheduler?.release(peer, true)
  }

  onUnchoked (peer: Peer): void {
    this.fill(peer)
  }

  onInterest (peer: Peer): void {
    if (this.have?.full === true && !this.opts.seed) return
    this.rechoker.interestChanged(peer)
  }

  onBlock (peer: Peer, index: number, begin: number, block: Buffer): void {
    const scheduler = this.scheduler
    if (scheduler === null || this.writeError !== null) return
    this.downloaded += block.length
    const endgame = scheduler.endgame
    const piece = scheduler.receive(peer, index, begin, block)
    if (endgame) this.cancelDuplicates(peer, index, begin, block.length)
    if (piece !== null) this.verify(piece)
    this.fill(peer, true)
  }

  onRejected (peer: Peer, req: BlockRequest): void {
    this.scheduler?.giveBack(peer, req)
  }

  onRequest (peer: Peer, req: BlockRequest): void {
    const meta = this.metainfo
    // Asking for what cannot exist, or more than the reqq we announced, is a broken or hostile
    // peer; asking for a piece we lack is an ordinary race with our HAVEs, answered by a reject.
    const inRange = meta === null || this.scheduler === null || (req.index < meta.pieceCount && req.length > 0 &&
      req.length <= MAX_REQUEST && req.begin + req.length <= this.scheduler.pieceSize(req.index))
    if (!inRange || peer.uploads.length >= UPLOAD_QUEUE) {
      peer.destroy(new TrackerlessError('EPROTO', inRange
        ? `peer ${peer.address} sent more than the ${UPLOAD_QUEUE} requests we accept at once; disconnected`
        : `peer ${peer.address} asked for bytes ${req.begin}+${req.length} of piece ${req.index}, outside the torrent; disconnected`))
      return
    }
    const valid = this.have !== null && this.have.get(req.index)
    if (!valid || peer.amChoking || this.uploader === null) {
      if (peer.wire.peerSupportsFast) peer.send({ type: 'reject', ...req })
      return
    }
    this.uploader.enqueue(peer, req)
  }

  onCancel (peer: Peer, req: BlockRequest): void {
    this.uploader?.cancel(peer, req)
  }

  onExtendedHandshake (peer: Peer): void {
    this.metadata.addPeer(peer)
    this.pex?.onExtendedHandshake(peer)
  }

  onExtended (peer: Peer, name: ExtensionName, payload: Buffer): void {
    try {
      if (name === 'ut_metadata') this.metadata.onMessage(peer, payload)
      else if (name === 'ut_pex') this.pex?.onMessage(peer, payload)
      else if (name === 'lt_donthave') this.onDontHave(peer, payload)
    } catch (err) {
      peer.destroy(err as Error)
    }
  }

  /** BEP54: the peer no longer has a piece (it evicted it); stop counting on it for that piece. */
  private onDontHave (peer: Peer, payload: Buffer): void {
    const picker = this.picker
    if (payload.length !== 4) throw new TrackerlessError('EPROTO', `peer sent an lt_donthave of ${payload.length} bytes, not 4; disconnected`)
    const index = payload.readUInt32BE(0)
    if (picker === null || !peer.availabilityKnown || index >= this.metainfo!.pieceCount || !peer.has(index)) return
    if (peer.isSeed) {
      // A seed is counted once for all pieces; to lose one it must be counted piece by piece.
      picker.removeSeed()
      peer.isSeed = false
      picker.addPeer(peer.bitfield!)
    }
    picker.peerLost(peer.bitfield!, index)
    this.scheduler!.forget(peer, index)
  }

  onClose (peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.uploadedByGone += peer.upload.total
    this.onUnavailable(peer)
    this.scheduler?.release(peer, true)
    this.metadata.removePeer(peer)
    this.pex?.remove(peer)
    this.strikes.delete(peer)
    peer.uploads.length = 0
    // Its pieces are orphans now: let the others adopt them.
    for (const other of this.peers) this.fill(other)
  }

  // --- Downloading ---

  private updateInterest (peer: Peer): void {
    const have = this.have
    if (have === null || !peer.availabilityKnown) return
    // Lazy torrents want nothing until a read asks, so any piece we lack is reason enough.
    const lacks = this.writeError === null && (this.opts.download === 'all'
      ? this.picker!.isInteresting(peer.isSeed ? 'all' : peer.bitfield!)
      : !have.full && (peer.isSeed || (peer.bitfield !== null && !peer.bitfield.empty)))
    peer.setInterested(lacks)
    if (lacks) this.fill(peer)
  }

  /**
   * Tops up the peer's requests to its window. After a block (`lazy`) it waits until a quarter of
   * the window has drained, so requests leave in batches: one socket write per batch instead of
   * one per block received.
   */
  private fill (peer: Peer, lazy = false): void {
    const scheduler = this.scheduler
    if (scheduler === null || this.writeError !== null || peer.peerChoking || !peer.amInterested) return
    const window = peer.requestWindow
    if (lazy && window > 0 && peer.requests.size > window - Math.max(1, window >> 2)) return
    peer.requestWindow = this.requestWindow(peer, scheduler)
    while (peer.requests.size < peer.requestWindow) {
      const req = scheduler.next(peer)
      if (req === null) break
      peer.wire.send({ type: 'request', index: req.index, begin: req.begin, length: req.length })
    }
  }

  /**
   * Requests to keep outstanding with `peer`: what its rate drains in QUEUE_SECONDS, within its
   * reqq, and within its share of the partial-piece budget among the peers we can ask. Without
   * that share, a fast peer's window (250 blocks on loopback: four 1 MiB pieces) took the pieces
   * the budget allows, and every piece freed went back to it before the others were asked. In
   * the 8-downloader bench the seed or one downloader then sent most of the torrent to everyone
   * while the rest sent almost nothing, and the swarm finished 3-10% later.
   */
  private requestWindow (peer: Peer, scheduler: Scheduler): number {
    const rate = peer.download.get()
    const wanted = rate === 0 ? START_QUEUE : Math.ceil(rate * QUEUE_SECONDS / BLOCK_SIZE)
    // `peer` itself is one of them, so there is at least one.
    let sources = 0
    for (const p of this.peers) if (!p.peerChoking && p.amInterested) sources++
    const share = Math.floor(scheduler.budgetBlocks / sources)
    return Math.min(peer.maxRequests, Math.max(MIN_QUEUE, Math.min(wanted, share)))
  }

  private cancelDuplicates (from: Peer, index: number, begin: number, length: number): void {
    const key = requestKey(index, begin / BLOCK_SIZE)
    for (const peer of this.peers) {
      if (peer !== from && peer.requests.delete(key)) peer.wire.send({ type: 'cancel', index, begin, length })
    }
  }

  private verify (piece: PartialPiece<Peer>): void {
    const storage = this.storage!
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
      this.scheduler?.fail(piece.index)
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
      for (const req of peer.requests.values()) peer.wire.send({ type: 'cancel', ...req })
      this.scheduler?.release(peer, true)
      peer.setInterested(false)
    }
    for (const index of [...this.waiters.keys()]) this.resolveWaiters(index, err)
    this.emit('error', err)
  }

  private onPieceStored (index: number): void {
    this.scheduler!.finish(index)
    this.picker!.markHave(index)
    this.have!.set(index)
    for (const peer of this.peers) if (!peer.has(index)) peer.send({ type: 'have', index })
    this.resolveWaiters(index)
    this.emit('piece', index)
    if (this.have!.full) {
      this.storage!.createEmptyFiles().then(() => this.emit('done'), (err: Error) => this.emit('error', err))
      for (const peer of this.peers) {
        peer.setInterested(false)
        if (!this.opts.seed && !peer.amChoking) peer.send({ type: 'choke' })
      }
      return
    }
    // The piece's place in the budget goes to the peer with the fewest requests outstanding, the
    // one most likely idle; in insertion order the first peers took every place freed.
    for (const peer of [...this.peers].sort((a, b) => a.requests.size - b.requests.size)) this.updateInterest(peer)
  }

  /** A sole contributor is banned at once; pieces with several get each a strike, two strikes ban. */
  private onBadPiece (piece: PartialPiece<Peer>): void {
    this.scheduler!.fail(piece.index)
    for (const peer of piece.contributors) {
      const strikes = (this.strikes.get(peer) ?? 0) + 1
      this.strikes.set(peer, strikes)
      if (piece.contributors.size === 1 || strikes >= 2) this.ban(peer)
    }
    for (const peer of this.peers) this.fill(peer)
  }

  private ban (peer: Peer): void {
    if (peer.wire.peerId !== null) this.banned.add(peer.wire.peerId.toString('hex'))
    this.banned.add(peer.address)
    peer.destroy(new TrackerlessError('EPROTO', `peer ${peer.address} sent data that failed the hash check; banned`))
  }

  private releaseStalled (): void {
    const now = Date.now()
    for (const peer of this.peers) {
      if (peer.requests.size > 0 && now - peer.lastBlockAt > STALL_TIMEOUT) {
        this.scheduler?.release(peer, true)
        peer.lastBlockAt = now
        for (const other of this.peers) if (other !== peer) this.fill(other)
      }
    }
  }

  private resolveWaiters (index: number, err?: Error): void {
    const list = this.waiters.get(index)
    if (list === undefined) return
    this.waiters.delete(index)
    for (const done of list) done(err)
  }
}

function abortError (): TrackerlessError {
  return new TrackerlessError('EABORTED', 'the read was aborted by its signal')
}
