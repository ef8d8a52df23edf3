import { chooseUnchoked, pickOptimistic, type ChokeCandidate } from './choker.js'
import type { Peer } from './peer.js'
import { OPTIMISTIC_ROUNDS, RECHOKE_INTERVAL, SLOTS } from './tuning.js'

/** What the rechoker needs of a peer: the choker's facts, and choking it. */
export type RechokePeer = ChokeCandidate & Pick<Peer, 'amChoking' | 'send'>

/**
 * Applies tit-for-tat every ten seconds (choker.ts decides, this owns the timer), and fills a free
 * slot at once (a peer became interested, lost interest or left) so that no slot waits a round.
 */
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

  /**
   * A peer became interested or not. A slot held by a peer that no longer wants anything goes at
   * once to the best peer waiting rather than idling until the next round (in a large swarm peers
   * finish every few seconds). The peer keeps its unchoke until the round, unlike libtorrent's
   * choke at once: a peer whose interest flickers near its end can then ask again at once, not a
   * round trip later behind our queued blocks (measured: bench/README.md, 2026-12-05, late morning).
   */
  interestChanged (_peer: P): void {
    this.fill()
  }

  /** A peer left (already out of the set): a slot it held goes to the best peer waiting. */
  left (peer: P): void {
    if (peer === this.optimistic) this.optimistic = undefined
    this.fill()
  }

  /** Slots not used by an interested peer (regular and optimistic) to the waiting peers the choker ranks first. */
  private fill (): void {
    let unchoked = 0
    const waiting: P[] = []
    for (const p of this.peers) {
      if (!p.interested) continue
      if (!p.amChoking) unchoked++
      else waiting.push(p)
    }
    const free = SLOTS + 1 - unchoked
    if (free <= 0 || waiting.length === 0) return
    for (const p of chooseUnchoked(waiting, { slots: free, seeding: this.isSeeding() })) p.send({ type: 'unchoke' })
  }

  rechoke (): void {
    const candidates = [...this.peers]
    const regular = chooseUnchoked(candidates, { slots: SLOTS, seeding: this.isSeeding() })
    const current = this.optimistic
    const stale = current === undefined || !this.peers.has(current) || !current.interested || regular.has(current)
    if (this.round++ % OPTIMISTIC_ROUNDS === 0 || stale) {
      this.optimistic = pickOptimistic(candidates, Math.random, { now: Date.now(), exclude: regular })
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
