import { BLOCK_SIZE } from '../wire/messages.js'

/** `peer`: asked for it and not yet answered, since `at`; `from`: who sent the data we hold. */
interface Slot<P> { data: Buffer | null, peer: P | null, at: number, from: P | null }

const REQUESTS_PER_PEER = 4

/**
 * Fetching the info dictionary as one size announced it: its 16 KiB pieces, which source was
 * asked for each and since when, and what came. It holds at most one buffer of `size` bytes,
 * filled only as far as sources answer.
 */
export class MetadataAttempt<P> {
  readonly size: number
  /** Peers that announced this size and are asked for its pieces. */
  readonly sources = new Set<P>()
  /** After a failed hash with several contributors: all pieces from one source, so the next
   *  failure convicts it. */
  solo = false
  private slots: Array<Slot<P>>

  constructor (size: number) {
    this.size = size
    this.slots = this.emptySlots()
  }

  get complete (): boolean {
    return this.slots.every((s) => s.data !== null)
  }

  /** Gives each unrequested piece to the source with the fewest requests out; `send` asks it. */
  pump (send: (peer: P, piece: number) => void, now = Date.now()): void {
    const load = new Map<P, number>()
    for (const peer of this.sources) {
      load.set(peer, 0)
      if (this.solo) break
    }
    for (const slot of this.slots) if (slot.peer !== null && load.has(slot.peer)) load.set(slot.peer, load.get(slot.peer)! + 1)
    this.slots.forEach((slot, piece) => {
      if (slot.data !== null || slot.peer !== null) return
      let best: P | null = null
      for (const [peer, n] of load) if (n < REQUESTS_PER_PEER && (best === null || n < load.get(best)!)) best = peer
      if (best === null) return
      load.set(best, load.get(best)! + 1)
      slot.peer = best
      slot.at = now
      send(best, piece)
    })
  }

  /** Whether `peer` was asked for `piece` and has not answered yet. */
  awaits (peer: P, piece: number): boolean {
    const slot = this.slots[piece]
    return slot !== undefined && slot.data === null && slot.peer === peer
  }

  /** Bytes piece `piece` must have. */
  pieceLength (piece: number): number {
    return Math.min(BLOCK_SIZE, this.size - piece * BLOCK_SIZE)
  }

  /** Stores what `peer` sent for `piece`, which it was asked for (see awaits). */
  store (peer: P, piece: number, data: Uint8Array): void {
    const slot = this.slots[piece]!
    slot.data = Buffer.from(data)
    slot.from = peer
    slot.peer = null
  }

  /** Stops asking `peer`; what it was asked for goes to the others. */
  drop (peer: P): void {
    this.sources.delete(peer)
    for (const slot of this.slots) if (slot.peer === peer && slot.data === null) slot.peer = null
  }

  /** When the oldest unanswered request was sent; null when none is out. */
  get oldestRequest (): number | null {
    let oldest: number | null = null
    for (const slot of this.slots) if (slot.data === null && slot.peer !== null && (oldest === null || slot.at < oldest)) oldest = slot.at
    return oldest
  }

  /** Sources with a request older than `timeout` ms: they are dropped and returned. */
  expire (timeout: number, now = Date.now()): P[] {
    const late = new Set<P>()
    for (const slot of this.slots) if (slot.data === null && slot.peer !== null && now - slot.at >= timeout) late.add(slot.peer)
    for (const peer of late) this.drop(peer)
    return [...late]
  }

  /** The whole buffer and who sent it; the attempt starts over empty. */
  take (): { info: Buffer, contributors: Set<P> } {
    const info = Buffer.concat(this.slots.map((s) => s.data!))
    const contributors = new Set(this.slots.map((s) => s.from!))
    this.slots = this.emptySlots()
    return { info, contributors }
  }

  private emptySlots (): Array<Slot<P>> {
    return Array.from({ length: Math.ceil(this.size / BLOCK_SIZE) }, () => ({ data: null, peer: null, at: 0, from: null }))
  }
}
