import { EventEmitter } from 'node:events'
import type { Wire } from '../wire/wire.js'
import type { ExtensionName } from '../wire/messages.js'
import type { Handshake } from '../wire/handshake.js'
import { parseInfo } from '../metainfo/torrent.js'
import type { Metainfo } from '../metainfo/types.js'
import { TorrentStorage } from '../storage/torrent-storage.js'
import type { StorageFactory } from '../storage/types.js'
import { storageFor } from '../storage/factories.js'
import { reusePieces, type PieceSource } from '../storage/reuse.js'
import { Bitfield } from '../util/bitfield.js'
import { SuperSeeding } from './super-seeding.js'
import type { InfoHash } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { Rechoker } from './rechoker.js'
import type { Peer, BlockRequest } from './peer.js'
import type { PeerSource } from './peer-list.js'
import { Connections, type ConnectionsHost, type ConnectionsOptions } from './connections.js'
import { Download } from './download.js'
import { PieceWaiters } from './waiters.js'
import { UploadOnly } from './upload-only.js'
import type { FileSpec } from './selection.js'
import type { TorrentPort, TorrentPortListeners } from '../archive/port.js'
import type { TorrentRates } from './rate-limit.js'
import { namedPeers } from '../archive/torrent-stats.js'
import { HashServer } from './hash-server.js'
import type { HashMessage, HashRange } from '../wire/hash-messages.js'
import { withPieceLayers, type PieceLayerFetch } from './piece-layers.js'

/** The connections' options (all but `info`, which comes from `metainfo`) and the download's. */
export interface SwarmOptions extends Omit<ConnectionsOptions, 'info'> {
  /** Known up front from a .torrent; null for a magnet link until BEP9 delivers it. */
  metainfo: Metainfo | null
  storage: StorageFactory
  /** 'all' fetches every piece rarest-first; 'lazy' only what reads ask for. */
  download: 'all' | 'lazy'
  /** Files fetched in the background whatever `download` says (lookup's `files`, a magnet's so=). */
  files?: readonly FileSpec[]
  /** Keep uploading once complete. */
  seed: boolean
  /** BEP16 super-seeding while we are a seed (super-seeding.ts). */
  superSeed?: boolean
  /** BEP19 mirrors a magnet named (ws=), added to the metadata when it arrives. */
  webSeeds?: readonly string[]
  /** The data is known to be complete (we just hashed it to create the torrent): skip the scan. */
  complete?: boolean
  /** Another version of this archive that we hold: pieces it has under the same hash are copied
   *  from it after the scan instead of downloaded (BEP46 updates). */
  reuse?: PieceSource
  /** Replaces the full scan (client/resume.ts: resume data). */
  scan?: (storage: TorrentStorage) => Promise<Bitfield>
  memoryBudget?: number
  /** This torrent's rate limits, with the client's (ClientRates.torrent()). */
  rates?: TorrentRates
}

export interface SwarmEvents {
  metadata: [Metainfo]
  ready: []
  piece: [number]
  done: []
  peer: [string]
  error: [Error]
}

/**
 * One torrent's peers: wires the Connections (who is connected: dial, accept, bans, PEX, BEP9)
 * to the Download (what we fetch and serve), which exists once metadata and storage do. It owns
 * the lifecycle (open, close), the events, the reads waiting for pieces, the rechoker, and what
 * we tell each peer of our pieces; every peer message is routed here (PeerHost) and passed on.
 */
export class Swarm extends EventEmitter<SwarmEvents> implements ConnectionsHost, TorrentPort {
  readonly infoHash: InfoHash
  metainfo: Metainfo | null
  /** Created once metadata and storage are ready; null before. */
  download: Download | null = null
  private readonly connections: Connections
  private readonly rechoker: Rechoker
  private readonly waiters = new PieceWaiters()
  private readonly uploadOnly: UploadOnly
  private readonly opts: SwarmOptions
  /** Its rate limits (archive.setLimits()); null for a swarm made without (tests). */
  readonly rates: TorrentRates | null
  /** Bytes sent to peers that have left; `uploaded` adds those still here. */
  private uploadedByGone = 0
  /** Peers told our pieces; the rest get them once storage is ready. */
  private readonly informed = new WeakSet<Peer>()
  private superSeeding: SuperSeeding | null = null
  /** Peers told HAVE-NONE before we had metadata: later they can only get HAVEs. */
  private readonly saidNone = new WeakSet<Peer>()
  /** The storage from its creation on, while the scan runs and after: close() closes it. */
  private opening: TorrentStorage | null = null
  /** BEP52 hash requests are answered from the piece layers the metainfo carries. */
  private hashes: HashServer<Peer> | null = null
  /** BEP52: a v2-only torrent's piece layers being fetched after BEP9 (piece-layers.ts). */
  private layers: PieceLayerFetch<Peer> | null = null
  private closed = false

  constructor (opts: SwarmOptions) {
    super()
    this.opts = opts
    this.infoHash = opts.infoHash
    this.metainfo = opts.metainfo
    this.rates = opts.rates ?? null
    this.connections = new Connections({ ...opts, info: opts.metainfo?.info ?? null, v2: () => this.layers !== null || (this.metainfo?.infoHashV2 !== undefined && this.metainfo.pieceLayers !== undefined) }, this)
    this.uploadOnly = new UploadOnly(this.peers, () => this.wantsNothing())
    this.rechoker = new Rechoker(this.peers, () => this.isSeed(), (peer) => this.download?.choked(peer))
    if (this.metainfo !== null) this.open(this.metainfo).catch((err: Error) => this.emit('error', err))
  }

  get peers (): Set<Peer> { return this.connections.peers }

  get ready (): boolean { return this.download !== null }

  get storage (): TorrentStorage | null { return this.download?.storage ?? null }

  get have (): Bitfield | null { return this.download?.have ?? null }

  /** @internal Tests read piece availability through it. */
  get picker (): Download['picker'] | null {
    return this.download?.picker ?? null
  }

  /** Bytes of piece data received from peers, verified or not. */
  get downloaded (): number {
    return this.download?.downloaded ?? 0
  }

  /** Bytes of piece data sent to peers. */
  get uploaded (): number {
    let total = this.uploadedByGone
    for (const peer of this.peers) total += peer.upload.total
    return total
  }

  /** Share of the pieces held, or of the selected files' pieces when a selection is set. */
  get progress (): number {
    const have = this.have
    if (have === null) return 0
    if (this.download!.selection.active) return this.download!.selection.progress()
    return have.length === 0 ? 1 : have.count / have.length
  }

  /** archive.pause() (archive/transfer-control.ts): no peer is dialled or kept while set. */
  get paused (): boolean {
    return this.connections.paused
  }

  set paused (paused: boolean) {
    this.connections.paused = paused
  }

  /** Discovery should find more peers; a seed's announces (get_peers walks) are all it looks for. */
  get wantsPeers (): boolean {
    return this.connections.wantsPeers && !this.isSeed()
  }

  /** Why the address (or peer id, hex) is banned; undefined when it is not. */
  banReason (address: string, id?: string): string | undefined {
    return this.connections.banReason(address, id)
  }

  /** Dial "host:port" (Connections.connect). */
  connect (address: string, source: PeerSource = 'named'): 'dialled' | 'full' | 'skipped' {
    return this.connections.connect(address, source)
  }

  /** An incoming connection whose handshake named our infohash (the client's listener routes them). */
  accept (wire: Wire, hs: Handshake): void {
    this.connections.accept(wire, hs)
  }

  /** Resolves when piece `index` is verified and stored; `prioritize` first for reads. An abort
   *  rejects with EABORTED and forgets the waiter. */
  waitForPiece (index: number, signal?: AbortSignal): Promise<void> {
    if (this.have?.get(index) === true) return Promise.resolve()
    const writeError = this.download?.writeError ?? null
    if (writeError !== null) return Promise.reject(writeError)
    return this.waiters.wait(index, signal)
  }

  hasPiece (index: number): boolean {
    return this.have?.get(index) === true
  }

  /** Bytes of a verified piece; ECLOSED before storage exists or after close. */
  readPiece (index: number, begin: number, length: number): Promise<Buffer> {
    const storage = this.download?.storage
    if (storage === undefined) return Promise.reject(new TrackerlessError('ECLOSED', 'the torrent has no storage yet or any more; open it again with client.lookup()'))
    return storage.read(index, begin, length)
  }

  listen (listeners: TorrentPortListeners): () => void {
    const { piece, done, peer, error } = listeners
    this.on('piece', piece).on('done', done).on('peer', peer).on('error', error)
    return () => { this.off('piece', piece).off('done', done).off('peer', peer).off('error', error) }
  }

  /** Pieces [first, last] are fetched before anything else until the returned function is called. */
  prioritize (first: number, last: number): () => void {
    return this.download?.prioritize(first, last) ?? (() => {})
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.rechoker.close()
    this.layers?.close()
    this.download?.close()
    this.connections.close()
    this.waiters.failAll(new TrackerlessError('ECLOSED', 'the torrent was closed while a read waited for its data'))
    await this.opening?.close()
  }

  // --- Setting up: metadata, storage ---

  onMetadata (info: Buffer): void {
    let meta: Metainfo
    try {
      meta = { ...parseInfo(info, this.infoHash), ...(this.opts.webSeeds !== undefined ? { webSeeds: [...this.opts.webSeeds] } : {}) }
    } catch (err) {
      this.emit('error', err as Error)
      return
    }
    this.emit('metadata', meta)
    this.layers = withPieceLayers(meta, this.peers, (peer, reason) => this.connections.ban(peer, reason), (full) => {
      this.layers = null
      if (full instanceof Error) this.emit('error', full)
      else this.open(this.metainfo = full).catch((err: Error) => this.emit('error', err))
    })
  }

  private async open (meta: Metainfo): Promise<void> {
    const factory = await storageFor(this.opts.storage, meta)
    if (this.closed) return
    const storage = new TorrentStorage({
      layout: meta, name: meta.name, multiFile: meta.multiFile, pieceHashes: meta.version === 2 ? null : meta.pieceHashes, ...(meta.version === 2 ? { pieceLayers: meta.pieceLayers ?? new Map<string, Buffer>() } : {}), factory,
      reuseWhen: this.sentByAll
    })
    this.opening = storage
    let have: Bitfield
    if (this.opts.complete === true) {
      have = new Bitfield(meta.pieceCount)
      have.setAll()
    } else {
      have = await (this.opts.scan?.(storage) ?? storage.scan())
      if (this.opts.reuse !== undefined && !this.closed) await reusePieces(this.opts.reuse, storage, meta.pieceHashes, have)
    }
    if (this.closed) return
    const download = new Download({
      meta, storage, have, download: this.opts.download, seed: this.opts.seed, peers: this.peers, waiters: this.waiters,
      ...(this.opts.files !== undefined ? { files: this.opts.files } : {}),
      ...(this.opts.memoryBudget !== undefined ? { memoryBudget: this.opts.memoryBudget } : {}),
      ...(this.rates !== null ? { rates: this.rates } : {})
    }, {
      piece: (index) => this.emit('piece', index),
      done: () => this.emit('done'),
      uploadOnly: (value) => {
        this.uploadOnly.changed(value)
        // The seeds we closed while we wanted nothing: a read or a grown selection needs them now.
        if (!value) for (const address of namedPeers(this)) this.connect(address)
      },
      error: (err) => this.emit('error', err),
      ban: (peer) => this.connections.ban(peer)
    })
    this.download = download
    if (this.opts.superSeed === true && download.complete) this.superSeeding = new SuperSeeding(meta.pieceCount)
    if (download.complete) await storage.createEmptyFiles((file) => download.selection.selected(file))
    for (const index of this.waiters.indices()) if (have.get(index)) this.waiters.resolve(index)
    this.emit('ready')
    if (download.complete) this.emit('done')
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

  /** We hold every piece we want: a seed, or a partial seed of the selected files. */
  isSeed (): boolean {
    return this.download?.complete === true
  }

  /** Complete, and no read waits for a piece: what BEP21 upload_only tells peers. */
  wantsNothing (): boolean {
    // A super-seed hides that it is one (libtorrent too): peers must keep telling it their HAVEs.
    return this.superSeeding === null && this.download?.uploadOnly === true
  }

  busy (peer: Peer): boolean {
    return this.download?.busy(peer) ?? false
  }

  onPeer (peer: Peer): void {
    peer.wire.on('drain', () => this.download?.pump(peer))
    this.layers?.pump()
    if (this.download !== null) {
      this.inform(peer)
      peer.setPieceCount(this.download.meta.pieceCount)
    } else if (this.metainfo === null && peer.wire.peerSupportsFast) {
      peer.send({ type: 'have-none' })
      this.saidNone.add(peer)
    }
    this.emit('peer', peer.address)
  }

  /** Tells a peer what we have: one message when it is the first thing we say, else HAVEs. */
  private inform (peer: Peer): void {
    const have = this.have
    if (this.informed.has(peer) || have === null) return
    this.informed.add(peer)
    if (this.superSeeding !== null) {
      this.superSeeding.inform(peer)
    } else if (this.saidNone.has(peer)) {
      for (let i = 0; i < have.length; i++) if (have.get(i)) peer.send({ type: 'have', index: i })
    } else if (peer.wire.peerSupportsFast && have.full) {
      peer.send({ type: 'have-all' })
    } else if (peer.wire.peerSupportsFast && have.empty) {
      peer.send({ type: 'have-none' })
    } else if (!have.empty) {
      peer.send({ type: 'bitfield', bitfield: Buffer.from(have.buffer) })
    }
  }

  // --- PeerHost: what peers tell us, passed to the part that acts on it ---

  onAvailable (peer: Peer, index: number): void {
    this.download?.onAvailable(peer, index)
    this.superSeeding?.onAvailable(peer, index)
    if (index === -1) this.uploadOnly.check(peer)
  }

  onUnavailable (peer: Peer): void { this.download?.onUnavailable(peer) }
  onChoked (peer: Peer): void { this.download?.onChoked(peer) }
  onUnchoked (peer: Peer): void { this.download?.onUnchoked(peer) }
  onBlock (peer: Peer, index: number, begin: number, block: Buffer): void { this.download?.onBlock(peer, index, begin, block) }
  wasAsked (peer: Peer, index: number, begin: number): boolean { return this.download?.wasAsked(peer, index, begin) ?? false }
  onRejected (peer: Peer, req: BlockRequest): void { this.download?.onRejected(peer, req) }
  onCancel (peer: Peer, req: BlockRequest): void { this.download?.onCancel(peer, req) }
  onExtendedHandshake (peer: Peer): void {
    this.connections.onExtendedHandshake(peer)
    this.uploadOnly.onHandshake(peer)
  }

  onInterest (peer: Peer): void {
    if (this.isSeed() && !this.opts.seed) return
    this.rechoker.interestChanged(peer)
  }

  onRequest (peer: Peer, req: BlockRequest): void {
    if (this.superSeeding !== null && !this.superSeeding.mayServe(peer, req)) return
    if (this.download !== null) this.download.onRequest(peer, req)
    else if (peer.wire.peerSupportsFast) peer.send({ type: 'reject', ...req })
  }

  onHashRequest (peer: Peer, req: HashRange): void {
    if (this.metainfo === null) return peer.send({ type: 'hash-reject', ...req })
    this.hashes ??= new HashServer(this.metainfo)
    peer.send(this.hashes.answer(peer, req))
  }

  onHashes (peer: Peer, answer: HashMessage): void { this.layers?.onMessage(peer, answer) }

  onExtended (peer: Peer, name: ExtensionName, payload: Buffer): void {
    try {
      if (name === 'lt_donthave') this.onDontHave(peer, payload)
      else if (name === 'upload_only') this.uploadOnly.onMessage(peer, payload)
      else this.connections.onExtended(peer, name, payload)
    } catch (err) {
      peer.destroy(err as Error)
    }
  }

  onClose (peer: Peer): void {
    if (!this.connections.remove(peer)) return
    this.uploadedByGone += peer.upload.total
    this.layers?.remove(peer)
    this.download?.onClose(peer)
    this.superSeeding?.onClose(peer)
    this.rechoker.left(peer)
  }

  private onDontHave (peer: Peer, payload: Buffer): void {
    if (payload.length !== 4) throw new TrackerlessError('EPROTO', `peer sent an lt_donthave of ${payload.length} bytes, not 4; disconnected`)
    this.download?.onDontHave(peer, payload.readUInt32BE(0))
  }
}
