import { chooseUnchoked, pickOptimistic } from './choker.js'
import type { Peer } from './peer.js'
import { OPTIMISTIC_ROUNDS, RECHOKE_INTERVAL, SLOTS } from './tuning.js'

/**
 * Applies tit-for-tat every ten seconds (choker.ts decides, this owns the timer), and unchokes an
 * interested peer at once while a slot is free so that a new swarm starts without waiting.
 */
export class Rechoker {
  private readonly peers: Set<Peer>
  private readonly isSeeding: () => boolean
  private readonly onChoke: (peer: Peer) => void
  private readonly timer: NodeJS.Timeout
  private round = 0
  private optimistic: Peer | undefined

  constructor (peers: Set<Peer>, isSeeding: () => boolean, onChoke: (peer: Peer) => void) {
    this.peers = peers
    this.isSeeding = isSeeding
    this.onChoke = onChoke
    this.timer = setInterval(() => this.rechoke(), RECHOKE_INTERVAL)
    this.timer.unref()
  }

  /** A peer became interested or not. */
  interestChanged (peer: Peer): void {
    if (!peer.interested || !peer.amChoking) return
    let unchoked = 0
    for (const p of this.peers) if (!p.amChoking) unchoked++
    if (unchoked < SLOTS + 1) peer.send({ type: 'unchoke' })
  }

  rechoke (): void {
    const candidates = [...this.peers]
    const regular = chooseUnchoked(candidates, { slots: SLOTS, seeding: this.isSeeding() }) as Set<Peer>
    const current = this.optimistic
    const stale = current === undefined || !this.peers.has(current) || !current.interested || regular.has(current)
    if (this.round++ % OPTIMISTIC_ROUNDS === 0 || stale) {
      this.optimistic = pickOptimistic(candidates, Math.random, { now: Date.now(), exclude: regular }) as Peer | undefined
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
