import type { Wire } from '../wire/wire.js'
import type { Message, ExtensionName } from '../wire/messages.js'
import type { HashMessage, HashRange } from '../wire/hash-messages.js'
import { Bitfield } from '../util/bitfield.js'
import { Rate } from '../util/rate.js'
import type { ChokeCandidate } from './choker.js'
import { TrackerlessError } from '../errors.js'

export interface BlockRequest { index: number, begin: number, length: number }

/** What a peer reports to its swarm; the swarm owns every decision. */
export interface PeerHost {
  /** The peer's pieces: -1 once for its first whole set (bitfield or have-all, once the piece
   *  count is known), then each HAVE's index. A seed (`isSeed`) is counted once, not per piece. */
  onAvailable (peer: Peer, index: number): void
  /** The peer's whole set, counted before, is about to be replaced by a later BITFIELD, HAVE-ALL
   *  or HAVE-NONE: uncount it (the new one comes as onAvailable -1). */
  onUnavailable (peer: Peer): void
  onChoked (peer: Peer): void
  onUnchoked (peer: Peer): void
  onInterest (peer: Peer): void
  /** We asked this peer for the block (a block nobody asked for is dropped before onBlock). */
  wasAsked (peer: Peer, index: number, begin: number): boolean
  onBlock (peer: Peer, index: number, begin: number, block: Buffer): void
  onRejected (peer: Peer, request: BlockRequest): void
  onRequest (peer: Peer, request: BlockRequest): void
  onCancel (peer: Peer, request: BlockRequest): void
  onExtendedHandshake (peer: Peer): void
  onExtended (peer: Peer, name: ExtensionName, payload: Buffer): void
  /** BEP52: the peer asks hashes of one of our files' merkle trees. */
  onHashRequest (peer: Peer, request: HashRange): void
  /** BEP52: the peer answers a hash request of ours (hashes or hash reject). */
  onHashes (peer: Peer, answer: HashMessage): void
  onClose (peer: Peer, err?: Error): void
}

/** Outstanding requests are keyed by index * MAX_BLOCKS + block (128 MiB pieces at most). */
export const MAX_BLOCKS = 8192
export const requestKey = (index: number, block: number): number => index * MAX_BLOCKS + block

/**
 * One connected peer of one torrent: the protocol state of BEP3/BEP6 (choke, interest, what it
 * has) and its rates. What we asked of it and it of us is the Scheduler's and the Uploader's. It validates what the peer says
 * against the torrent's size before the swarm sees it.
 */
export class Peer implements ChokeCandidate {
  readonly wire: Wire
  readonly address: string
  /** We dialled it (else it dialled us). */
  readonly outgoing: boolean
  readonly connectedAt = Date.now()
  /** When we last unchoked it (0: never); the choker serves the longest waiting first. */
  unchokedAt = 0
  /** What the peer has; null until we know the piece count (magnet links before metadata). */
  bitfield: Bitfield | null = null
  /** Sent have-all or a full bitfield: counted as a seed, not per piece. */
  isSeed = false
  /** Said BEP21 upload_only last (extended handshake or message; upload-only.ts): flagged as a seed in PEX. */
  uploadOnly = false
  /** The swarm has been told of the first whole set (onAvailable -1). */
  availabilityKnown = false
  amChoking = true
  amInterested = false
  peerChoking = true
  peerInterested = false
  readonly download = new Rate()
  readonly upload = new Rate()
  lastBlockAt = Date.now()
  /** When a block or a metadata piece last came from the peer; its connection time before. */
  receivedAt = Date.now()
  /** Max requests the peer accepts at once (BEP10 reqq). */
  maxRequests = 250
  /** Bytes of blocks it sent that we had not asked it for (or had cancelled): ignored. */
  unasked = 0
  private pieceCount = -1
  private pendingBits: Buffer | null = null
  private pendingHaves: number[] = []
  private readonly host: PeerHost

  constructor (wire: Wire, address: string, outgoing: boolean, host: PeerHost) {
    this.wire = wire
    this.address = address
    this.outgoing = outgoing
    this.host = host
    wire.on('message', (msg) => this.onMessage(msg))
    wire.on('extended-handshake', (h) => {
      if (h.reqq !== undefined) this.maxRequests = Math.max(1, Math.min(h.reqq, 2000))
      host.onExtendedHandshake(this)
    })
    wire.on('extended', (name, payload) => host.onExtended(this, name, payload))
    wire.once('close', (err?: Error) => host.onClose(this, err))
  }

  get interested (): boolean { return this.peerInterested }
  get downloadRate (): number { return this.download.get() }
  /** When payload last moved either way (keep-alives and other chatter are not payload). */
  get lastUsefulAt (): number { return Math.max(this.receivedAt, this.upload.lastAt) }
  get uploadRate (): number { return this.upload.get() }

  /** Once the piece count is known, what the peer said before it is applied. */
  setPieceCount (count: number): void {
    if (this.pieceCount !== -1) return
    this.pieceCount = count
    this.bitfield = new Bitfield(count)
    const said = this.isSeed || this.pendingBits !== null || this.pendingHaves.length > 0
    if (this.isSeed) {
      this.bitfield.setAll()
    } else if (this.pendingBits !== null) {
      if (this.pendingBits.length !== (count + 7) >> 3) {
        this.destroy(protocolError(`a bitfield of ${this.pendingBits.length} bytes for ${count} pieces`))
        return
      }
      this.bitfield = new Bitfield(count, this.pendingBits)
    }
    for (const index of this.pendingHaves) {
      if (index >= 0 && index < count) this.bitfield.set(index)
    }
    this.pendingBits = null
    this.pendingHaves = []
    if (this.bitfield.full) this.isSeed = true
    if (said) this.announceSet()
  }

  has (index: number): boolean {
    return this.isSeed || (this.bitfield !== null && this.bitfield.get(index))
  }

  send (msg: Message): void {
    switch (msg.type) {
      case 'choke': this.amChoking = true; break
      case 'unchoke': this.amChoking = false; this.unchokedAt = Date.now(); break
      case 'interested': this.amInterested = true; break
      case 'not-interested': this.amInterested = false; break
    }
    this.wire.send(msg)
  }

  setInterested (interested: boolean): void {
    if (interested !== this.amInterested) this.send({ type: interested ? 'interested' : 'not-interested' })
  }

  destroy (err?: Error): void {
    this.wire.destroy(err)
  }

  private onMessage (msg: Message): void {
    switch (msg.type) {
      case 'choke':
        this.peerChoking = true
        this.host.onChoked(this)
        break
      case 'unchoke':
        this.peerChoking = false
        this.host.onUnchoked(this)
        break
      case 'interested':
      case 'not-interested':
        this.peerInterested = msg.type === 'interested'
        this.host.onInterest(this)
        break
      case 'have':
        this.onHave(msg.index)
        break
      case 'bitfield':
        this.onSet(msg.bitfield)
        break
      case 'have-all':
        this.onSet('all')
        break
      case 'have-none':
        this.onSet('none')
        break
      case 'piece':
        // A block we did not ask this peer for (or cancelled) is dropped, as libtorrent does: taken,
        // a peer could put junk into pieces others fetch and get them struck for the bad hash.
        if (!this.host.wasAsked(this, msg.index, msg.begin)) {
          this.unasked += msg.block.length
          break
        }
        this.lastBlockAt = this.receivedAt = Date.now()
        this.download.add(msg.block.length, this.lastBlockAt)
        this.host.onBlock(this, msg.index, msg.begin, msg.block)
        break
      case 'request':
        this.host.onRequest(this, blockOf(msg))
        break
      case 'cancel':
        this.host.onCancel(this, blockOf(msg))
        break
      case 'reject':
        this.host.onRejected(this, blockOf(msg))
        break
      case 'hash-request':
        this.host.onHashRequest(this, msg)
        break
      case 'hashes':
      case 'hash-reject':
        this.host.onHashes(this, msg)
        break
      default:
        // keep-alive, port, suggest, allowed-fast: nothing to do (we do not act on hints).
        break
    }
  }

  private onHave (index: number): void {
    if (this.pieceCount === -1) {
      // Before metadata: remember a bounded number of HAVEs; a flood is not worth keeping.
      if (this.pendingHaves.length < 100_000) this.pendingHaves.push(index)
      return
    }
    if (index < 0 || index >= this.pieceCount) {
      this.destroy(protocolError(`HAVE for piece ${index} of ${this.pieceCount}`))
      return
    }
    if (this.isSeed || this.bitfield!.get(index)) return
    if (this.availabilityKnown) {
      // The swarm's picker sets the bit as it counts it (PiecePicker.peerHas).
      this.host.onAvailable(this, index)
    } else {
      this.bitfield!.set(index)
      this.announceSet()
    }
  }

  /**
   * A later BITFIELD, HAVE-ALL or HAVE-NONE replaces what the peer said before, HAVEs included:
   * aria2 sends HAVE-NONE and then a BITFIELD each time it completes pieces, and libtorrent
   * accepts that the same way. Only a bitfield of the wrong length is dropped, since its bits
   * cannot be mapped onto our pieces.
   */
  private onSet (set: Uint8Array | 'all' | 'none'): void {
    if (this.pieceCount === -1) {
      this.pendingHaves = []
      this.isSeed = set === 'all'
      this.pendingBits = typeof set === 'string' ? null : Buffer.from(set)
      return
    }
    if (typeof set !== 'string' && set.length !== (this.pieceCount + 7) >> 3) {
      this.destroy(protocolError(`a bitfield of ${set.length} bytes for ${this.pieceCount} pieces`))
      return
    }
    const counted = this.availabilityKnown
    if (counted) {
      this.host.onUnavailable(this)
      this.availabilityKnown = false
    }
    this.bitfield = typeof set === 'string' ? new Bitfield(this.pieceCount) : new Bitfield(this.pieceCount, set)
    if (set === 'all') this.bitfield.setAll()
    this.isSeed = this.bitfield.full
    // A first HAVE-NONE needs no counting: the first HAVE will announce the set.
    if (set !== 'none' || counted) this.announceSet()
  }

  private announceSet (): void {
    this.availabilityKnown = true
    this.host.onAvailable(this, -1)
  }
}

/** Only the block: a message passed on would carry its `type` into the replies spread from it
 *  (a REJECT built as `{ type: 'reject', ...req }` went out as a REQUEST). */
function blockOf (msg: BlockRequest): BlockRequest {
  return { index: msg.index, begin: msg.begin, length: msg.length }
}

function protocolError (what: string): Error {
  return new TrackerlessError('EPROTO', `peer sent ${what}; disconnected`)
}
