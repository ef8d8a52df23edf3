import { BLOCK_SIZE } from '../wire/messages.js'

const NONE = 0
const REQUESTED = 1
const RECEIVED = 2

/**
 * A piece being downloaded: its buffer and the state of each 16 KiB block. Blocks are copied
 * straight into the buffer, so assembling a piece costs one copy per block and no concatenation.
 */
export class PartialPiece<P> {
  readonly index: number
  readonly length: number
  /** The piece's bytes, a view of `storage`. */
  readonly buffer: Buffer
  /** The whole pooled buffer, to give back once the piece is written or dropped. */
  readonly storage: Buffer
  readonly blockCount: number
  /** The peer that fetches this piece alone, so a bad piece has one suspect; null when orphaned. */
  owner: P | null
  /** Everyone who sent a block of it: the suspects when its hash fails. */
  readonly contributors = new Set<P>()
  /** Endgame or a read waiting on it: any peer may request its blocks. */
  shared = false
  private readonly state: Uint8Array
  /** Requests outstanding per block: 1, or more once end-game asks another peer too. */
  private readonly asked: Uint8Array
  private cursor = 0
  private received = 0

  /** `buffer` holds at least `length` bytes; the piece is assembled in its first `length`. */
  constructor (index: number, length: number, owner: P | null, buffer: Buffer) {
    this.index = index
    this.length = length
    this.owner = owner
    this.blockCount = Math.ceil(length / BLOCK_SIZE)
    this.state = new Uint8Array(this.blockCount)
    this.asked = new Uint8Array(this.blockCount)
    this.storage = buffer
    this.buffer = buffer.subarray(0, length)
  }

  /**
   * Bytes [begin, end) of the piece are BEP47 padding, zeros by definition: the blocks wholly
   * inside are zero-filled and count as received, so nobody is asked for them. One block is always
   * left to request, so that a piece completes (and is verified) through receive() as any other.
   */
  fillPadding (begin: number, end: number): void {
    for (let b = Math.ceil(begin / BLOCK_SIZE); b < this.blockCount && this.received < this.blockCount - 1; b++) {
      const start = b * BLOCK_SIZE
      const stop = start + this.blockLength(b)
      if (stop > end) break
      if (this.state[b] !== NONE) continue
      this.buffer.fill(0, start, stop)
      this.state[b] = RECEIVED
      this.received++
    }
  }

  blockLength (block: number): number {
    return Math.min(BLOCK_SIZE, this.length - block * BLOCK_SIZE)
  }

  /** Next block nobody has requested, marked requested; -1 when none is left. */
  takeBlock (): number {
    while (this.cursor < this.blockCount && this.state[this.cursor] !== NONE) this.cursor++
    if (this.cursor === this.blockCount) return -1
    this.state[this.cursor] = REQUESTED
    this.asked[this.cursor] = 1
    return this.cursor++
  }

  /** End-game: `block`, already requested, is asked of one more peer. */
  askAgain (block: number): void {
    if (this.state[block] === REQUESTED && this.asked[block]! < 255) this.asked[block]!++
  }

  /** A request that will not be answered (choke, reject, timeout, disconnect); the block is
   *  free again once no other peer has it requested either. */
  returnBlock (block: number): void {
    if (this.state[block] !== REQUESTED || --this.asked[block]! > 0) return
    this.state[block] = NONE
    if (block < this.cursor) this.cursor = block
  }

  /** Requests outstanding for `block`. */
  timesAsked (block: number): number {
    return this.asked[block]!
  }

  /** End-game: the requested, unreceived block asked of the fewest peers; -1 when there is none. */
  leastAskedPending (): number {
    let best = -1
    for (let b = 0; b < this.blockCount; b++) {
      if (this.state[b] !== REQUESTED) continue
      if (best === -1 || this.asked[b]! < this.asked[best]!) best = b
      if (this.asked[b] === 1) break
    }
    return best
  }

  /** Copies the block in; false when it was not wanted (a duplicate, or a wrong size). */
  addBlock (block: number, data: Buffer, from: P): boolean {
    if (block < 0 || block >= this.blockCount || this.state[block] === RECEIVED) return false
    if (data.length !== this.blockLength(block)) return false
    // fill() copies with memcpy; copy() into shared memory (the piece buffers are, for the disk
    // writer) goes through V8's much slower per-word copy (bench/README.md, 2026-11-21 evening).
    const at = block * BLOCK_SIZE
    this.buffer.fill(data, at, at + data.length)
    this.state[block] = RECEIVED
    this.asked[block] = 0
    this.received++
    this.contributors.add(from)
    return true
  }

  get complete (): boolean {
    return this.received === this.blockCount
  }
}
