import { SuperSeed } from './super-seed.js'
import type { BlockRequest, Peer } from './peer.js'

/**
 * BEP16 on the wire for a seed that super-seeds (`seed(path, { superSeed: true })`): peers are
 * told we have nothing (HAVE-NONE, or no bitfield), then one HAVE at a time, as SuperSeed decides;
 * a request for a piece not offered to that peer is rejected. Seeds among the peers are left out.
 */
export class SuperSeeding {
  private readonly decisions: SuperSeed<Peer>
  private readonly added = new WeakSet<Peer>()
  /** Peers added before their set was known: SuperSeed counted none of their pieces yet. */
  private readonly uncounted = new WeakSet<Peer>()

  constructor (pieceCount: number) {
    this.decisions = new SuperSeed<Peer>(pieceCount)
  }

  /** Every piece has reached some peer once: a full copy is out. */
  get allOut (): boolean {
    return this.decisions.allOut
  }

  /** What a new peer hears from us instead of our bitfield; it is offered a piece at once. */
  inform (peer: Peer): void {
    if (peer.wire.peerSupportsFast) peer.send({ type: 'have-none' })
    this.add(peer)
  }

  /** The peer said what it has (`index` -1: its first whole set) or announced a piece. */
  onAvailable (peer: Peer, index: number): void {
    if (index >= 0) {
      this.offer(this.decisions.onHave(peer, index))
    } else if (peer.isSeed) {
      this.offer(this.decisions.removePeer(peer))
    } else if (this.uncounted.delete(peer)) {
      // Added before its set was known (HAVE-NONE, no BEP6, or a first HAVE): count it now.
      peer.bitfield?.forEachSet((i) => this.offer(this.decisions.onHave(peer, i)))
    } else {
      this.add(peer)
    }
  }

  /** Whether to serve the request; a piece not offered to the peer is rejected (BEP6) or ignored. */
  mayServe (peer: Peer, req: BlockRequest): boolean {
    if (this.decisions.mayServe(peer, req.index)) return true
    if (peer.wire.peerSupportsFast) peer.send({ type: 'reject', ...req })
    return false
  }

  onClose (peer: Peer): void {
    this.offer(this.decisions.removePeer(peer))
  }

  private add (peer: Peer): void {
    if (peer.isSeed || this.added.has(peer)) return
    this.added.add(peer)
    if (!peer.availabilityKnown) this.uncounted.add(peer)
    this.offer([[peer, this.decisions.addPeer(peer)]])
  }

  private offer (next: Array<[Peer, number]>): void {
    for (const [peer, index] of next) if (index >= 0) peer.send({ type: 'have', index })
  }
}
