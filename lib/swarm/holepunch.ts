/**
 * BEP55 holepunching for one torrent, both roles.
 *
 * Relay: a connected peer A sends rendezvous(T); if we are connected to T and T speaks
 * ut_holepunch, T gets connect(A) and A gets connect(T), and each dials the other over uTP at
 * once, so that each one's packets open its own NAT for the other's. Otherwise A gets the error
 * that says why (libtorrent's checks, in its order: not connected, no support, itself).
 *
 * Initiator: a peer that PEX told us of and that we could not dial is asked of the peer that told
 * us (libtorrent's "introducer": that peer was connected to it when it told us). One that PEX
 * marks as speaking ut_holepunch but not as reachable (the introducer did not dial it: it may be
 * behind a NAT) is asked of it already when the direct dial has not shaken hands PUNCH_AFTER_MS
 * after it began, so that a NAT costs a second and not a connect timeout, while a reachable peer
 * still connects over the transport we dial first (TCP). On connect(X),
 * from whichever peer, X is dialled over uTP at once; duplicates of the two connections this
 * makes are settled by the swarm's rule for two peers that dial each other (Connections).
 *
 * Bounded: each peer gets HOLEPUNCH_BUDGET holepunch messages handled per minute, the rest are
 * dropped unanswered (an answer would itself be what a reflector sends); a connect is dialled
 * only to an address a peer could be at (not loopback from a peer elsewhere, not multicast).
 */
import { PEX_FLAGS } from '../wire/ut-pex.js'
import { decodeHolepunch, encodeHolepunch, HOLEPUNCH_ERROR, type HolepunchMessage } from '../wire/holepunch-message.js'
import type { ExtendedHandshake } from '../wire/messages.js'
import { parsePeerAddress } from '../metainfo/magnet.js'
import { formatAddress, isDialablePeer, isLocalAddress, isLoopback, unmapped } from '../discovery/address.js'

/** Holepunch messages handled per peer and minute; libtorrent sends one rendezvous per failed dial. */
export const HOLEPUNCH_BUDGET = 20
const WINDOW_MS = 60_000
/** A peer we asked a relay about is not asked about again for this long. */
export const RENDEZVOUS_RETRY_MS = 60_000
/**
 * How long the direct dial of a peer that PEX flags as possibly behind a NAT may go without a
 * handshake before its relay is asked too: a TCP handshake and the BitTorrent one take a round trip
 * each, well under a second on most paths; the dial's own timeout is 5 s.
 */
export const PUNCH_AFTER_MS = 1_000
/** Rendezvous asked early (while a direct dial is pending) of one introducer per minute: half a relay's budget, so that failed dials still have room. */
export const EARLY_BUDGET = HOLEPUNCH_BUDGET / 2
/** Addresses whose introducer (and last rendezvous) we remember; the oldest is forgotten past it. */
const REMEMBERED = 1024

/** What holepunching needs of a connected peer (the swarm's Peer satisfies it). */
export interface HolepunchPeer {
  readonly address: string
  readonly wire: {
    readonly remoteAddress: string | undefined
    readonly peerExtensions: ExtendedHandshake | null
    sendExtended (name: 'ut_holepunch', payload: Buffer): boolean
  }
}

export interface HolepunchOptions<P extends HolepunchPeer> {
  /** The peers connected now. */
  peers: ReadonlySet<P>
  /** Where a connected peer accepts connections (PEX's address for it); null while unknown. */
  addressOf: (peer: P) => string | null
  /** Dials `address` over uTP now; null when uTP is off (we then relay, but never punch). */
  punch: ((address: string) => void) | null
  /** A direct dial of `address` is still waiting for its handshake. */
  dialling?: (address: string) => boolean
  now?: () => number
}

/** What was done, for tests and diagnostics. */
export interface HolepunchStats {
  /** rendezvous we sent (of them, askedEarly while the direct dial was pending), connects we relayed (one per pair), errors we answered. */
  rendezvousSent: number
  askedEarly: number
  relayed: number
  refused: number
  /** Addresses we dialled because a connect told us to, and when (ms since the epoch). */
  punched: Map<string, number>
}

export class Holepunch<P extends HolepunchPeer> {
  readonly stats: HolepunchStats = { rendezvousSent: 0, askedEarly: 0, relayed: 0, refused: 0, punched: new Map() }
  private readonly introducers = new Map<string, P>()
  private readonly asked = new Map<string, number>()
  private readonly budgets = new WeakMap<P, { start: number, used: number }>()
  private readonly earlyBudgets = new WeakMap<P, { start: number, used: number }>()
  /** Dials that ask their relay early unless they shake hands first. */
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly now: () => number

  constructor (private readonly opts: HolepunchOptions<P>) {
    this.now = opts.now ?? Date.now
  }

  /** PEX: `by` told us of `address`. */
  introduced (address: string, by: P): void {
    remember(this.introducers, address, by)
  }

  /**
   * We began to dial `address`, which PEX told us of with these flags: when it speaks ut_holepunch
   * and its introducer did not dial it, its introducer is asked to relay if the dial has not shaken
   * hands PUNCH_AFTER_MS later (opts.dialling says).
   */
  dialled (address: string, flags: number): void {
    const dialling = this.opts.dialling
    if (dialling === undefined || (flags & PEX_FLAGS.holepunch) === 0 || (flags & PEX_FLAGS.reachable) !== 0) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      const relay = this.introducers.get(address)
      if (!dialling(address) || relay === undefined || !this.usable(relay) || !spend(this.earlyBudgets, relay, this.now(), EARLY_BUDGET)) return
      if (this.failed(address)) this.stats.askedEarly++
    }, PUNCH_AFTER_MS)
    timer.unref()
    this.timers.add(timer)
  }

  /** A dial of `address` failed: asks its introducer to relay, if it can. True when asked. */
  failed (address: string): boolean {
    const relay = this.introducers.get(address)
    if (relay === undefined || !this.usable(relay)) return false
    const last = this.asked.get(address)
    if (last !== undefined && this.now() - last < RENDEZVOUS_RETRY_MS) return false
    const { host, port } = parsePeerAddress(address)
    if (!send(relay, { type: 'rendezvous', host, port, error: 0 })) return false
    remember(this.asked, address, this.now())
    this.stats.rendezvousSent++
    return true
  }

  /** A ut_holepunch message from `peer`; malformed ones are ignored, as libtorrent does. */
  onMessage (peer: P, payload: Buffer): void {
    if (!this.spend(peer)) return
    const msg = decodeHolepunch(payload)
    if (msg === null) return
    if (msg.type === 'rendezvous') this.relay(peer, msg)
    else if (msg.type === 'connect') this.connect(peer, msg)
    else this.asked.delete(formatAddress(msg.host, msg.port))
  }

  /** A peer left: it introduces nobody any more. */
  remove (peer: P): void {
    for (const [address, by] of this.introducers) if (by === peer) this.introducers.delete(address)
  }

  close (): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    this.introducers.clear()
    this.asked.clear()
  }

  private usable (relay: P): boolean {
    return this.opts.punch !== null && supports(relay) && this.opts.peers.has(relay)
  }

  private relay (from: P, msg: HolepunchMessage): void {
    const wanted = formatAddress(msg.host, msg.port)
    const refuse = (error: number): void => {
      this.stats.refused++
      send(from, { type: 'error', host: msg.host, port: msg.port, error })
    }
    if (!isDialablePeer(msg.host, msg.port)) return refuse(HOLEPUNCH_ERROR.noSuchPeer)
    let target: P | undefined
    for (const peer of this.opts.peers) {
      if (this.opts.addressOf(peer) === wanted || peer.address === wanted) { target = peer; break }
    }
    if (target === undefined) return refuse(HOLEPUNCH_ERROR.notConnected)
    if (!supports(target)) return refuse(HOLEPUNCH_ERROR.noSupport)
    if (target === from) return refuse(HOLEPUNCH_ERROR.noSelf)
    const initiator = parsePeerAddress(this.opts.addressOf(from) ?? from.address)
    send(from, { type: 'connect', host: msg.host, port: msg.port, error: 0 })
    send(target, { type: 'connect', host: unmapped(initiator.host), port: initiator.port, error: 0 })
    this.stats.relayed++
  }

  private connect (from: P, msg: HolepunchMessage): void {
    if (this.opts.punch === null || !isDialablePeer(msg.host, msg.port)) return
    const fromHere = isLocalAddress(unmapped(from.wire.remoteAddress ?? ''))
    if (!fromHere && (isLoopback(msg.host) || isLocalAddress(msg.host))) return
    const address = formatAddress(unmapped(msg.host), msg.port)
    this.asked.delete(address)
    remember(this.stats.punched, address, this.now())
    this.opts.punch(address)
  }

  private spend (peer: P): boolean {
    return spend(this.budgets, peer, this.now(), HOLEPUNCH_BUDGET)
  }
}

/** Takes one of `limit` a minute from `peer`'s budget in `budgets`; false when none is left. */
function spend<P extends object> (budgets: WeakMap<P, { start: number, used: number }>, peer: P, now: number, limit: number): boolean {
  let budget = budgets.get(peer)
  if (budget === undefined || now - budget.start >= WINDOW_MS) {
    budget = { start: now, used: 0 }
    budgets.set(peer, budget)
  }
  return ++budget.used <= limit
}

function supports (peer: HolepunchPeer): boolean {
  const id = peer.wire.peerExtensions?.m.ut_holepunch
  return id !== undefined && id !== 0
}

function send (peer: HolepunchPeer, msg: HolepunchMessage): boolean {
  return supports(peer) && peer.wire.sendExtended('ut_holepunch', encodeHolepunch(msg))
}

function remember<V> (map: Map<string, V>, key: string, value: V): void {
  map.delete(key)
  if (map.size >= REMEMBERED) map.delete(map.keys().next().value!)
  map.set(key, value)
}
