import { EventEmitter } from 'node:events'
import type { PeerStream, TransportName } from '../transport/types.js'
import { TrackerlessError } from '../errors.js'
import type { InfoHash, PeerId } from '../util/ids.js'
import { FrameParser, writeMessage, type Frame } from './codec.js'
import { decodeExtendedHandshake, encodeExtendedHandshake, MAX_EXTENSION_NAMES } from './extended.js'
import { encodeHandshake, type Handshake, type HandshakeFlags } from './handshake.js'
import { EXTENSIONS, type ExtendedHandshake, type ExtensionName, type Message } from './messages.js'

export interface WireOptions {
  /** Our peer id, sent in the handshake. */
  peerId: PeerId
  /** ms to receive the peer's handshake before closing with ETIMEDOUT. */
  handshakeTimeout?: number
  /** ms without receiving a byte before closing with ETIMEDOUT. */
  idleTimeout?: number
  /** ms without sending anything after which a keep-alive is sent. */
  keepAliveInterval?: number
  /** Largest frame accepted from the peer; longer closes with EPROTO. */
  maxFrame?: number
  /** Bytes queued for the socket above which `writableNeedDrain` is true (at least the socket's own). */
  writeHighWaterMark?: number
  /** Bytes queued for the socket above which the peer is dropped: it asks for more than it reads.
   *  Default: 16 times the high-water mark (4 MiB), far above what 'drain'-respecting senders queue. */
  maxWriteQueue?: number
  /** What carries the connection (default 'tcp'), for the peer list's record of the peer. */
  transport?: TransportName
}

export interface WireEvents {
  handshake: [Handshake]
  message: [Message]
  'extended-handshake': [ExtendedHandshake]
  extended: [ExtensionName, Buffer]
  drain: []
  close: [Error | undefined]
}

const NAME_BY_ID = new Map<number, ExtensionName>(
  Object.entries(EXTENSIONS).map(([name, id]) => [id, name as ExtensionName])
)

const DEFAULT_FLAGS: HandshakeFlags = { extended: true, fast: true, dht: false }

/**
 * What hasRoom() lets queue for a peer: this many seconds at the rate we send it, as libtorrent's
 * send buffer watermark (half a second), and never less than two blocks.
 */
const SEND_BUFFER_SECONDS = 0.5
const MIN_SEND_BUFFER = 32 * 1024

/**
 * One peer connection over a socket: handshake, framed messages, BEP10 extension routing, write
 * batching, backpressure and the timers that keep it honest. It knows nothing of what pieces
 * mean or of other peers.
 *
 * Buffers in emitted messages (a piece's block, a bitfield, an extended payload) are valid only
 * until the listener returns; copy them to keep them. Sends after close are dropped (they return
 * false). Errors never surface as 'error' events: whatever ends the wire is the argument of its
 * single 'close' event (undefined when the peer simply hung up or `destroy()` had no reason).
 */
export class Wire extends EventEmitter<WireEvents> {
  readonly socket: PeerStream
  readonly transport: TransportName
  /** Our peer id. */
  readonly localPeerId: PeerId
  /** The peer's id, once its handshake arrived. */
  peerId: PeerId | null = null
  /** The torrent of this connection: the one we sent, or the one the peer asked for. */
  infoHash: InfoHash | null = null
  /** The peer's BEP10 handshake, merged over its updates. */
  peerExtensions: ExtendedHandshake | null = null
  /** The peer set the BEP6 bit; the fast messages are usable only if we set it too. */
  peerSupportsFast = false
  peerSupportsExtended = false
  peerSupportsDht = false
  /** BEP52: the peer's handshake set the v2 bit (it speaks hash requests). */
  peerSupportsV2 = false
  destroyed = false
  /** Piece payload bytes sent and received. */
  uploadedBytes = 0
  downloadedBytes = 0
  /** Every byte handed to the socket so far, frames and handshake; see hasSent(). */
  queuedBytes = 0

  private readonly parser: FrameParser
  private readonly idleTimeout: number
  private readonly keepAliveInterval: number
  private readonly highWaterMark: number
  private readonly maxWriteQueue: number
  private sentInfoHash: InfoHash | null = null
  private handshakeTimer: NodeJS.Timeout | null
  private idleTimer: NodeJS.Timeout | null = null
  private keepAliveTimer: NodeJS.Timeout | null = null
  private corked = false
  private needDrain = false
  private address: string | undefined
  private port: number | undefined

  constructor (socket: PeerStream, options: WireOptions) {
    super()
    this.socket = socket
    this.transport = options.transport ?? 'tcp'
    this.localPeerId = options.peerId
    this.idleTimeout = options.idleTimeout ?? 120_000
    this.keepAliveInterval = options.keepAliveInterval ?? 60_000
    this.highWaterMark = Math.max(options.writeHighWaterMark ?? 256 * 1024, socket.writableHighWaterMark)
    this.maxWriteQueue = Math.max(options.maxWriteQueue ?? 16 * this.highWaterMark, this.highWaterMark)
    this.parser = new FrameParser({ maxFrame: options.maxFrame })
    this.rememberAddress()

    this.handshakeTimer = setTimeout(() => {
      this.destroy(new TrackerlessError('ETIMEDOUT', 'the peer sent no handshake in time; try another peer'))
    }, options.handshakeTimeout ?? 10_000).unref()

    // Nagle would only delay what the cork below already batches.
    socket.setNoDelay(true)
    socket.on('connect', this.rememberAddress)
    socket.on('data', this.receive)
    socket.on('drain', this.onDrain)
    socket.on('error', this.onSocketError)
    socket.on('close', this.onSocketClose)
    if (socket.destroyed) this.destroy()
  }

  get remoteAddress (): string | undefined {
    return this.address
  }

  get remotePort (): number | undefined {
    return this.port
  }

  /** True while more than the high-water mark is queued: stop producing until 'drain'. */
  get writableNeedDrain (): boolean {
    return this.socket.writableLength >= this.highWaterMark
  }

  /**
   * True while the bytes queued for the socket, with `pending` more about to be queued, stay under
   * what `bytesPerSecond` sends in half a second (at least the socket's own high-water mark, at most
   * ours). Whatever we send next waits behind that queue: on a slow uplink a queue of our full
   * high-water mark would hold our requests and HAVEs back for seconds. False arms 'drain'.
   */
  hasRoom (pending: number, bytesPerSecond: number): boolean {
    const limit = Math.min(this.highWaterMark, Math.max(this.socket.writableHighWaterMark, MIN_SEND_BUFFER, bytesPerSecond * SEND_BUFFER_SECONDS))
    if (this.socket.writableLength + pending < limit) return true
    // At or above the socket's own mark, the socket emits 'drain' once it has written its queue.
    this.needDrain = true
    return false
  }

  /**
   * Sends our handshake. Outgoing connections call it at once; for incoming ones, after the
   * peer's 'handshake' event named a torrent we serve. A peer answering with another infohash
   * than ours ends the wire with EPROTO.
   */
  sendHandshake (infoHash: InfoHash, flags: HandshakeFlags = DEFAULT_FLAGS): void {
    if (this.destroyed || this.sentInfoHash !== null) return
    this.sentInfoHash = infoHash
    if (this.infoHash !== null && !this.infoHash.equals(infoHash)) {
      this.destroy(mismatch())
      return
    }
    this.infoHash = infoHash
    this.cork()
    this.write(encodeHandshake({ infoHash, peerId: this.localPeerId, ...flags }))
    this.keepAliveTimer = setTimeout(this.sendKeepAlive, this.keepAliveInterval).unref()
  }

  /**
   * Queues a message; returns false when the caller should wait for 'drain' (or the wire is closed).
   * A piece's block, a bitfield or an extended payload is queued by reference, not copied: do not
   * modify it afterwards.
   */
  send (msg: Message): boolean {
    if (this.destroyed) return false
    if (msg.type === 'piece') this.uploadedBytes += msg.block.length
    this.cork()
    writeMessage(msg, this.write)
    return this.checkDrain()
  }

  /**
   * Sends our BEP10 handshake with `m` set to EXTENSIONS. Call it after the peer's 'handshake';
   * returns false (and sends nothing) when the peer did not announce BEP10.
   */
  sendExtendedHandshake (h: Omit<ExtendedHandshake, 'm'> & { m?: ExtendedHandshake['m'] }): boolean {
    if (!this.peerSupportsExtended) return false
    return this.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ ...h, m: { ...EXTENSIONS } }) })
  }

  /** Sends an extension message under the id the peer chose; false when the peer lacks it. */
  sendExtended (name: ExtensionName, payload: Buffer): boolean {
    const id = this.peerExtensions?.m[name]
    if (id === undefined || id === 0 || this.destroyed) return false
    this.send({ type: 'extended', id, payload })
    return true
  }

  /** Closes the connection at once (queued writes are dropped); 'close' follows with `err`. */
  destroy (err?: Error): void {
    if (this.destroyed) return
    this.destroyed = true
    for (const timer of [this.handshakeTimer, this.idleTimer, this.keepAliveTimer]) {
      if (timer !== null) clearTimeout(timer)
    }
    this.handshakeTimer = this.idleTimer = this.keepAliveTimer = null
    this.socket.destroy()
    process.nextTick(() => this.emit('close', err))
  }

  /**
   * True once the socket has passed the first `mark` bytes queued (a past `queuedBytes`) to the
   * kernel, or is destroyed: buffers sent by reference before that mark are no longer read.
   */
  hasSent (mark: number): boolean {
    return this.destroyed || this.queuedBytes - this.socket.writableLength >= mark
  }

  private readonly write = (bytes: Buffer): void => {
    this.queuedBytes += bytes.length
    this.socket.write(bytes)
  }

  /** Batches everything sent in this tick into as few socket writes as possible. */
  private cork (): void {
    if (this.corked) return
    this.corked = true
    this.socket.cork()
    process.nextTick(this.flush)
  }

  private readonly flush = (): void => {
    this.corked = false
    if (this.destroyed) return
    this.socket.uncork()
    this.keepAliveTimer?.refresh()
  }

  private checkDrain (): boolean {
    if (!this.writableNeedDrain) return true
    // Replies we cannot hold back (rejects, metadata pieces, HAVEs) pile up when a peer keeps
    // asking but never reads: that peer would grow our memory without bound.
    if (this.socket.writableLength > this.maxWriteQueue) {
      // A reset, not a close: a close would leave what the kernel already holds for this peer
      // (megabytes on loopback) waiting, with the socket, until a peer that never reads reads it.
      this.socket.resetAndDestroy()
      this.destroy(new TrackerlessError('EPROTO', `the peer left over ${this.maxWriteQueue} bytes unread while it kept asking for more; dropped it`))
      return false
    }
    this.needDrain = true
    return false
  }

  private readonly sendKeepAlive = (): void => {
    this.send({ type: 'keep-alive' })
  }

  /** Bytes from the peer. The chunk is not kept after this returns, so the caller may reuse it. */
  readonly receive = (chunk: Buffer): void => {
    this.idleTimer?.refresh()
    try {
      for (const frame of this.parser.push(chunk)) {
        if (this.destroyed) break
        this.onFrame(frame)
      }
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private onFrame (frame: Frame): void {
    switch (frame.type) {
      case 'handshake':
        this.onHandshake(frame.handshake)
        return
      case 'piece':
        this.downloadedBytes += frame.block.length
        this.emit('message', frame)
        return
      case 'extended':
        this.onExtended(frame.id, frame.payload)
        return
      default:
        this.emit('message', frame)
    }
  }

  private onHandshake (h: Handshake): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = null
    if (this.sentInfoHash !== null && !this.sentInfoHash.equals(h.infoHash)) {
      this.destroy(mismatch())
      return
    }
    this.infoHash = h.infoHash
    this.peerId = h.peerId
    this.peerSupportsExtended = h.extended
    this.peerSupportsFast = h.fast
    this.peerSupportsDht = h.dht
    this.peerSupportsV2 = h.v2 === true
    this.idleTimer = setTimeout(() => {
      this.destroy(new TrackerlessError('ETIMEDOUT', `the peer sent nothing for ${this.idleTimeout} ms; it is gone, try another`))
    }, this.idleTimeout).unref()
    this.emit('handshake', h)
  }

  private onExtended (id: number, payload: Buffer): void {
    if (id === 0) {
      const h = decodeExtendedHandshake(payload)
      // BEP10: later handshakes update the earlier one, and may name only what changed.
      const prev = this.peerExtensions
      this.peerExtensions = prev === null ? h : { ...prev, ...h, m: mergeNames(prev.m, h.m) }
      this.emit('extended-handshake', this.peerExtensions)
      return
    }
    const name = NAME_BY_ID.get(id)
    if (name !== undefined) this.emit('extended', name, payload)
  }

  private readonly onDrain = (): void => {
    if (!this.needDrain) return
    this.needDrain = false
    this.emit('drain')
  }

  private readonly onSocketError = (err: Error): void => {
    this.destroy(err)
  }

  private readonly onSocketClose = (): void => {
    this.destroy()
  }

  private readonly rememberAddress = (): void => {
    this.address = this.socket.remoteAddress ?? this.address
    this.port = this.socket.remotePort ?? this.port
  }
}

/** BEP10 updates of `m`; names beyond MAX_EXTENSION_NAMES are ignored, so that a peer sending
 *  handshake after handshake with new names cannot grow what we keep about it. */
function mergeNames (prev: ExtendedHandshake['m'], next: ExtendedHandshake['m']): ExtendedHandshake['m'] {
  const out = { ...prev }
  let names = Object.keys(out).length
  for (const [name, id] of Object.entries(next)) {
    if (!Object.hasOwn(out, name)) {
      if (names === MAX_EXTENSION_NAMES) continue
      names++
    }
    out[name] = id
  }
  return out
}

function mismatch (): TrackerlessError {
  return new TrackerlessError('EPROTO', 'the peer answered with another infohash than the one we asked for; drop it')
}
