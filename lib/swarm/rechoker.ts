import { chooseUnchoked, pickOptimistic, type ChokeCandidate } from './choker.js'
import type { Peer } from './peer.js'
import { OPTIMISTIC_ROUNDS, RECHOKE_INTERVAL, SLOTS } from './tuning.js'

/**
 * Applies tit-for-tat every ten seconds (choker.ts decides, this owns the timer), and unchokes an
 * interested peer at once while a slot is free so that a new swarm starts without waiting.
 */
/** What the rechoker needs of a peer: the choker's facts, and choking it. */
export type RechokePeer = ChokeCandidate & Pick<Peer, 'amChoking' | 'send'>

export class Rechoker<P extends RechokePeer = Peer> {
  private readonly peers: ReadonlySet<P>
  private readonly isSeeding: () => boolean
  private readonly onChoke: (peer: P) => void
  private readonly timer: NodeJS.Timeout
  private round = 0
  private optimistic: P | undefined

  constructor (peers: ReadonlySet<P>, isSeeding: () => boolean, onChoke: (peer: P) => void) {
    this.peers = peers
    this.isSeeding = isSeeding
    this.onChoke = onChoke
    this.timer = setInterval(() => this.rechoke(), RECHOKE_INTERVAL)
    this.timer.unref()
  }

  /** A peer became interested or not. */
  interestChanged (peer: P): void {
    if (!peer.interested || !peer.amChoking) return
    let unchoked = 0
    for (const p of this.peers) if (!p.amChoking) unchoked++
    if (unchoked < SLOTS + 1) peer.send({ type: 'unchoke' })
  }

  rechoke (): void {
    const candidates = [...this.peers]
    const regular = chooseUnchoked(candidates, { slots: SLOTS, seeding: this.isSeeding() }) as Set<P>
    const current = this.optimistic
    const stale = current === undefined || !this.peers.has(current) || !current.interested || regular.has(current)
    if (this.round++ % OPTIMISTIC_ROUNDS === 0 || stale) {
      this.optimistic = pickOptimistic(candidates, Math.random, { now: Date.now(), exclude: regular }) as P | undefined
    }
    for (const peer of candidates) {
      if (regular.has(peer) || peer === this.optimistic) {
        if (peer.amChoking) peer.send({ type: 'unchoke' })
      } else if (!peer.amChoking) {
        peer.send({ type: 'choke' })
        this.onChoke(peer)
      }
    }
  }

  close (): void {
    clearInterval(this.timer)
  }
}
