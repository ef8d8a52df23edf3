import { fail, TrackerlessError } from '../errors.js'
import { decodeHashMessage, encodeHashMessage } from './hash-messages.js'
import { decodeHandshake, HANDSHAKE_LENGTH, type Handshake } from './handshake.js'
import { BLOCK_SIZE, type Message, type MessageType } from './messages.js'

/**
 * Largest frame accepted by default: a 1 MiB bitfield (8M pieces) or a piece message of a 1 MiB
 * block, whichever a peer sends. Anything longer is a broken or hostile peer.
 */
export const DEFAULT_MAX_FRAME = 1024 * 1024 + 13

const ID: Record<Exclude<MessageType, 'keep-alive' | 'hash-request' | 'hashes' | 'hash-reject'>, number> = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  'not-interested': 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 13,
  'have-all': 14,
  'have-none': 15,
  reject: 16,
  'allowed-fast': 17,
  extended: 20
}

/**
 * Hands the frame for `msg` to `write` as one buffer, or as a small header plus the message's own
 * body (piece block, bitfield, extended payload) so that a 16 KiB block is never copied on send.
 */
export function writeMessage (msg: Message, write: (bytes: Buffer) => void): void {
  switch (msg.type) {
    case 'keep-alive':
      write(Buffer.alloc(4))
      return
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'not-interested':
    case 'have-all':
    case 'have-none':
      write(head(1, ID[msg.type]))
      return
    case 'have':
    case 'suggest':
    case 'allowed-fast': {
      const out = head(5, ID[msg.type])
      out.writeUInt32BE(msg.index, 5)
      write(out)
      return
    }
    case 'request':
    case 'cancel':
    case 'reject': {
      const out = head(13, ID[msg.type])
      out.writeUInt32BE(msg.index, 5)
      out.writeUInt32BE(msg.begin, 9)
      out.writeUInt32BE(msg.length, 13)
      write(out)
      return
    }
    case 'port': {
      const out = head(3, ID.port)
      out.writeUInt16BE(msg.port, 5)
      write(out)
      return
    }
    case 'piece': {
      const out = head(9 + msg.block.length, ID.piece, 13)
      out.writeUInt32BE(msg.index, 5)
      out.writeUInt32BE(msg.begin, 9)
      write(out)
      if (msg.block.length > 0) write(msg.block)
      return
    }
    case 'bitfield':
      write(head(1 + msg.bitfield.length, ID.bitfield, 5))
      if (msg.bitfield.length > 0) write(msg.bitfield)
      return
    case 'extended': {
      const out = head(2 + msg.payload.length, ID.extended, 6)
      out.writeUInt8(msg.id, 5)
      write(out)
      if (msg.payload.length > 0) write(msg.payload)
      return
    }
    case 'hash-request':
    case 'hashes':
    case 'hash-reject':
      write(encodeHashMessage(msg))
  }
}

/** One buffer holding the whole frame. The data path uses `writeMessage` instead, to avoid the copy. */
export function encodeMessage (msg: Message): Buffer {
  const parts: Buffer[] = []
  writeMessage(msg, (bytes) => parts.push(bytes))
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

/** Length prefix and id; `size` is the header's own size when a body follows separately. */
function head (length: number, id: number, size = 4 + length): Buffer {
  const out = Buffer.allocUnsafe(size)
  out.writeUInt32BE(length, 0)
  out[4] = id
  return out
}

/** Exact frame size (id plus payload) per id for fixed-size messages; minimum for the others. */
const FIXED_SIZE = new Map<number, number>([
  [0, 1], [1, 1], [2, 1], [3, 1], [4, 5], [6, 13], [8, 13], [9, 3], [13, 5], [14, 1], [15, 1], [16, 13], [17, 5]
])
const MIN_SIZE = new Map<number, number>([[5, 1], [7, 9], [20, 2]])

/**
 * Decodes one frame body (id byte plus payload, without the length prefix). Returns null for an
 * id this library does not know, so that newer peers' messages are skipped rather than fatal.
 * Buffers in the result (piece block, bitfield, extended payload) are views into `frame`.
 */
export function decodeMessage (frame: Buffer): Message | null {
  const id = frame[0]!
  const fixed = FIXED_SIZE.get(id)
  if (fixed !== undefined && frame.length !== fixed) {
    fail('EPROTO', `a message with id ${id} is ${fixed} bytes long but the peer sent ${frame.length}; the peer is broken, drop it`)
  }
  const min = MIN_SIZE.get(id)
  if (min !== undefined && frame.length < min) {
    fail('EPROTO', `a message with id ${id} is at least ${min} bytes long but the peer sent ${frame.length}; the peer is broken, drop it`)
  }
  switch (id) {
    case 0: return { type: 'choke' }
    case 1: return { type: 'unchoke' }
    case 2: return { type: 'interested' }
    case 3: return { type: 'not-interested' }
    case 4: return { type: 'have', index: frame.readUInt32BE(1) }
    case 5: return { type: 'bitfield', bitfield: frame.subarray(1) }
    case 6: return { type: 'request', index: frame.readUInt32BE(1), begin: frame.readUInt32BE(5), length: frame.readUInt32BE(9) }
    case 7: return { type: 'piece', index: frame.readUInt32BE(1), begin: frame.readUInt32BE(5), block: frame.subarray(9) }
    case 8: return { type: 'cancel', index: frame.readUInt32BE(1), begin: frame.readUInt32BE(5), length: frame.readUInt32BE(9) }
    case 9: return { type: 'port', port: frame.readUInt16BE(1) }
    case 13: return { type: 'suggest', index: frame.readUInt32BE(1) }
    case 14: return { type: 'have-all' }
    case 15: return { type: 'have-none' }
    case 16: return { type: 'reject', index: frame.readUInt32BE(1), begin: frame.readUInt32BE(5), length: frame.readUInt32BE(9) }
    case 17: return { type: 'allowed-fast', index: frame.readUInt32BE(1) }
    case 20: return { type: 'extended', id: frame[1]!, payload: frame.subarray(2) }
    case 21:
    case 22:
    case 23: return decodeHashMessage(frame)
    default: return null
  }
}

/** A piece message of one standard block: id, index, begin and 16 KiB. */
const SPARE_SIZE = 9 + BLOCK_SIZE

/** What FrameParser yields: the peer's handshake once, then its messages. */
export type Frame = Message | { type: 'handshake', handshake: Handshake }

export interface FrameParserOptions {
  /** Largest frame (id plus payload) accepted; longer is EPROTO. */
  maxFrame?: number
  /** Expect a 68-byte handshake before the first message (default true). */
  handshake?: boolean
}

/**
 * Splits a peer's byte stream into frames. A frame inside one chunk is decoded in place (its
 * buffers are views of the chunk); only a frame that spans chunks is copied, once, into a buffer
 * of exactly its size. A piece's `block` (and any other buffer in a yielded message) may be kept
 * only until the consumer pulls the next frame: copy it to keep it longer.
 *
 * Consume every frame `push` yields; stopping early discards the rest of that chunk. After an
 * EPROTO error the parser stays failed and throws the same error on every later push.
 */
export class FrameParser {
  private readonly maxFrame: number
  private awaitingHandshake: boolean
  /** A frame (or the handshake) being assembled across chunks. */
  private partial: Buffer | null = null
  private filled = 0
  /** A length prefix split across chunks. */
  private readonly prefix = Buffer.alloc(4)
  private prefixFilled = 0
  private error: TrackerlessError | null = null
  private spare: Buffer | null = null

  constructor (options: FrameParserOptions = {}) {
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME
    this.awaitingHandshake = options.handshake ?? true
  }

  /** Bytes held for a frame that has not fully arrived (bounded by maxFrame). */
  get buffered (): number {
    return this.partial === null ? this.prefixFilled : this.filled
  }

  * push (chunk: Buffer): Generator<Frame, void, void> {
    if (this.error !== null) throw this.error
    try {
      yield * this.parse(chunk)
    } catch (err) {
      if (err instanceof TrackerlessError) this.error = err
      throw err
    }
  }

  private * parse (chunk: Buffer): Generator<Frame, void, void> {
    const end = chunk.length
    let off = 0
    while (off < end) {
      if (this.partial !== null) {
        const n = Math.min(this.partial.length - this.filled, end - off)
        chunk.copy(this.partial, this.filled, off, off + n)
        this.filled += n
        off += n
        if (this.filled < this.partial.length) return
        const frame = this.partial
        this.partial = null
        const decoded = this.decode(frame)
        if (decoded !== null) yield decoded
        continue
      }

      if (this.awaitingHandshake) {
        if (end - off >= HANDSHAKE_LENGTH) {
          yield this.decode(chunk.subarray(off, off + HANDSHAKE_LENGTH))!
          off += HANDSHAKE_LENGTH
        } else {
          this.begin(HANDSHAKE_LENGTH)
        }
        continue
      }

      let length: number
      if (this.prefixFilled === 0 && end - off >= 4) {
        length = chunk.readUInt32BE(off)
        off += 4
      } else {
        const n = Math.min(4 - this.prefixFilled, end - off)
        chunk.copy(this.prefix, this.prefixFilled, off, off + n)
        this.prefixFilled += n
        off += n
        if (this.prefixFilled < 4) return
        this.prefixFilled = 0
        length = this.prefix.readUInt32BE(0)
      }

      if (length === 0) {
        yield { type: 'keep-alive' }
      } else if (length > this.maxFrame) {
        fail('EPROTO', `the peer announced a ${length}-byte message, over the ${this.maxFrame}-byte limit; drop the peer`)
      } else if (end - off >= length) {
        const decoded = decodeMessage(chunk.subarray(off, off + length))
        off += length
        if (decoded !== null) yield decoded
      } else {
        this.begin(length)
      }
    }
  }

  private begin (length: number): void {
    // Nearly every frame that spans two reads is a block; reusing one buffer for those spares the
    // collector a 16 KiB buffer per read. Safe: a frame's buffers live only until the next pull.
    if (length <= SPARE_SIZE) {
      this.spare ??= Buffer.allocUnsafe(SPARE_SIZE)
      this.partial = this.spare.subarray(0, length)
    } else {
      this.partial = Buffer.allocUnsafe(length)
    }
    this.filled = 0
  }

  private decode (frame: Buffer): Frame | null {
    if (!this.awaitingHandshake) return decodeMessage(frame)
    this.awaitingHandshake = false
    return { type: 'handshake', handshake: decodeHandshake(frame) }
  }
}
