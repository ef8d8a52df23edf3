import type { ExtendedHandshake } from '../wire/messages.js'
import { decodePexMessage, encodePexMessage, MAX_PEX_PEERS, PEX_FLAGS, type PexEntry, type PexPeerAddress } from '../wire/ut-pex.js'
import { parsePeerAddress } from '../metainfo/magnet.js'
import type { TransportName } from '../transport/types.js'
import { formatAddress, isDialablePeer, isLocalAddress, isLoopback, unmapped } from './address.js'

/** What PEX needs of a connection (the swarm's Wire satisfies it). */
export interface PexWire {
  readonly remoteAddress: string | undefined
  readonly peerExtensions: ExtendedHandshake | null
  /** What carries the connection (default tcp): a peer we reach over uTP is flagged as speaking it. */
  readonly transport?: TransportName
  sendExtended (name: 'ut_pex', payload: Buffer): boolean
}

/** What PEX needs of a connected peer (the swarm's Peer satisfies it). */
export interface PexPeer {
  /** For an outgoing connection, the address we dialled. */
  readonly address: string
  /** We dialled it (else it dialled us). */
  readonly outgoing: boolean
  readonly wire: PexWire
  readonly isSeed: boolean
  /** It said BEP21 upload_only: like a seed, it has nothing to fetch from a peer we tell of it. */
  readonly uploadOnly?: boolean
}

export interface PeerExchangeOptions<P extends PexPeer = PexPeer> {
  /** Dial a peer we learnt of ("host:port") from `from`, which flagged it with `flags` (PEX_FLAGS). */
  connect: (address: string, from: P, flags: number) => void
  /** True once we have every piece: peers flagged as seeds are then of no use to us. */
  isSeed: () => boolean
  /** A peer we are told of speaks uTP (flag 0x04), called before it is dialled. */
  speaksUtp?: (address: string) => void
}

/** BEP11: at most one message a minute to each peer. */
export const PEX_INTERVAL = 60_000
/** From a peer, one message in this long is taken; more come from a flood and are dropped unread. */
const RECEIVE_GAP = 45_000
/** How often peers are checked for a message due; the first one goes out right after the handshake. */
const TICK = 5_000

interface State {
  /** Where the peer accepts connections, once known. */
  dialable: string | null
  /** Addresses this peer was told of and not told dropped since. */
  told: Set<string>
  lastSent: number
  lastReceived: number
}

/**
 * BEP11 peer exchange for one torrent: tells each peer that speaks ut_pex which peers joined and
 * left since its last message (at most 50 of each, at most once a minute), and dials the peers
 * it is told of. A peer's dialable address is the one we dialled, or for incoming connections its
 * IP with the listen port `p` of its extended handshake.
 */
export class PeerExchange<P extends PexPeer> {
  private readonly opts: PeerExchangeOptions<P>
  private readonly peers = new Map<P, State>()
  private readonly timer: NodeJS.Timeout

  constructor (opts: PeerExchangeOptions<P>) {
    this.opts = opts
    this.timer = setInterval(() => this.sendDue(), TICK)
    this.timer.unref()
  }

  add (peer: P): void {
    this.peers.set(peer, {
      dialable: peer.outgoing ? peer.address : null, told: new Set(), lastSent: -Infinity, lastReceived: -Infinity
    })
  }

  /** Where `peer` accepts connections, or null while unknown. */
  addressOf (peer: P): string | null {
    return this.peers.get(peer)?.dialable ?? null
  }

  /** Learns the peer's listen port, and sends it its first message if it speaks ut_pex. */
  onExtendedHandshake (peer: P): void {
    const state = this.peers.get(peer)
    if (state === undefined) return
    const p = peer.wire.peerExtensions?.p
    const ip = peer.wire.remoteAddress
    if (!peer.outgoing && p !== undefined && ip !== undefined) state.dialable = formatAddress(unmapped(ip), p)
    this.sendTo(peer, state, Date.now())
  }

  /**
   * A ut_pex message: malformed bencoding throws EPROTO (drop the peer); a flood is ignored.
   * Of the first 50 added peers, those that cannot be dialled are skipped, and so are loopback
   * addresses from a peer that is not on this host (they would aim our dials at local services).
   */
  onMessage (peer: P, payload: Buffer): void {
    const state = this.peers.get(peer)
    const now = Date.now()
    if (state === undefined || now - state.lastReceived < RECEIVE_GAP) return
    state.lastReceived = now
    const { added } = decodePexMessage(payload)
    const known = new Set<string>()
    for (const [other, s] of this.peers) known.add(s.dialable ?? other.address)
    const skipSeeds = this.opts.isSeed()
    const fromHere = isLocalAddress(unmapped(peer.wire.remoteAddress ?? ''))
    for (const entry of added.slice(0, MAX_PEX_PEERS)) {
      if (skipSeeds && (entry.flags & PEX_FLAGS.seed) !== 0) continue
      if (!isDialablePeer(entry.host, entry.port) || (!fromHere && isLoopback(entry.host))) continue
      const address = formatAddress(entry.host, entry.port)
      if (known.has(address)) continue
      if ((entry.flags & PEX_FLAGS.utp) !== 0) this.opts.speaksUtp?.(address)
      this.opts.connect(address, peer, entry.flags)
    }
  }

  remove (peer: P): void {
    this.peers.delete(peer)
  }

  close (): void {
    clearInterval(this.timer)
    this.peers.clear()
  }

  private sendDue (): void {
    const now = Date.now()
    for (const [peer, state] of this.peers) {
      if (now - state.lastSent >= PEX_INTERVAL) this.sendTo(peer, state, now)
    }
  }

  private sendTo (peer: P, state: State, now: number): void {
    const id = peer.wire.peerExtensions?.m.ut_pex
    if (id === undefined || id === 0 || now - state.lastSent < PEX_INTERVAL) return
    const current = new Map<string, PexEntry>()
    for (const [other, s] of this.peers) {
      if (other === peer || s.dialable === null) continue
      // As libtorrent: uTP only for a peer connected over it (0 says nothing either way).
      const flags = (other.isSeed || other.uploadOnly === true ? PEX_FLAGS.seed : 0) | (other.outgoing ? PEX_FLAGS.reachable : 0) | (other.wire.transport === 'utp' ? PEX_FLAGS.utp : 0)
        | ((other.wire.peerExtensions?.m.ut_holepunch ?? 0) !== 0 ? PEX_FLAGS.holepunch : 0)
      current.set(s.dialable, { ...hostPort(s.dialable), flags })
    }
    const added = [...current].filter(([a]) => !state.told.has(a)).slice(0, MAX_PEX_PEERS)
    const dropped = [...state.told].filter((a) => !current.has(a)).slice(0, MAX_PEX_PEERS)
    if (added.length === 0 && dropped.length === 0) return
    if (!peer.wire.sendExtended('ut_pex', encodePexMessage({ added: added.map(([, e]) => e), dropped: dropped.map(hostPort) }))) return
    for (const [a] of added) state.told.add(a)
    for (const a of dropped) state.told.delete(a)
    state.lastSent = now
  }
}

function hostPort (address: string): PexPeerAddress {
  const { host, port } = parsePeerAddress(address)
  return { host, port }
}
