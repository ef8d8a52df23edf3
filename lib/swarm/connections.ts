/**
 * Connections: one torrent's peers as connections, before and apart from any download. It owns
 * the set of connected peers, dialling (through the peer list) and accepting, admission and the
 * duplicate-connection rule, bans, PEX and the BEP9 metadata exchange. What the peers say about
 * pieces goes to the swarm's PeerHost; this module never looks at piece data.
 */
import type { Wire } from '../wire/wire.js'
import { dialTcp, type PeerDialer } from '../wire/peer-socket.js'
import { EXTENSIONS } from '../wire/messages.js'
import { ipv6Field, ipv6Hint, youripField } from '../wire/extended.js'
import type { Handshake } from '../wire/handshake.js'
import { parsePeerAddress } from '../metainfo/magnet.js'
import type { InfoHash, PeerId } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { MetadataExchange } from './metadata.js'
import { Peer, type PeerHost } from './peer.js'
import type { ConnectionSlots, Room } from './connection-slots.js'
import { PeerList, type PeerSource } from './peer-list.js'
import { reportedSelf } from './peers/self.js'
import { admit } from './eviction.js'
import { PeerExchange } from '../discovery/pex.js'
import { formatAddress, isLocalAddress, unmapped } from '../discovery/address.js'
import { Holepunch } from './holepunch.js'
import { ipFromBytes } from '../wire/compact-ip.js'
import { CONNECT_TIMEOUT, DEFAULT_MAX_PEERS, UPLOAD_QUEUE, WANTED_PEERS } from './tuning.js'
import type { SwarmHashes } from './swarm-hashes.js'

export interface ConnectionsOptions {
  infoHash: InfoHash
  /** A hybrid's other hash (BEP52): which one each handshake names, what metadata hashes to. */
  hashes?: SwarmHashes
  peerId: PeerId
  /** Our TCP listen port, told to peers in the extended handshake. */
  port: number
  /** The info dictionary when known up front (a .torrent); null for a magnet link. */
  info: Buffer | null
  /** BEP52: we speak hash messages for this torrent (we hold its piece layers, or ask for them):
   *  say so in handshakes. Asked at each handshake. */
  v2?: () => boolean
  maxPeers?: number
  slots?: ConnectionSlots
  pex?: boolean
  clientName: string
  /** How peers are dialled (default: TCP). */
  dial?: PeerDialer
  /** The port peers outside reach us at (a router's mapping), told instead of `port` when known. */
  advertisedPort?: () => number
  /** Dials over uTP only (BEP55 holepunching); without it we relay holepunches but never punch. */
  dialUtp?: PeerDialer
  /** A peer's `yourip`: our address as the peer at `from` (an IP) sees it. */
  reportAddress?: (ip: string, from: string) => void
  /** Our global IPv6 address, told to IPv4 peers (BEP7 `ipv6`); null while unknown. */
  ownIpv6?: () => string | null
  /** PEX says the peer at the address speaks uTP (the dialler may try it first). */
  speaksUtp?: (address: string) => void
}

/** What the connections need of the rest of the swarm. */
export interface ConnectionsHost extends PeerHost {
  /** A peer finished its handshake and joined `peers`. */
  onPeer (peer: Peer): void
  /** BEP9 assembled an info dictionary that matches the infohash. */
  onMetadata (info: Buffer): void
  /** We hold every piece (a seed, for PEX flags). */
  isSeed (): boolean
  /** We want nothing of anyone (BEP21 upload_only). */
  wantsNothing (): boolean
  /** Blocks are requested of the peer or by it: eviction passes it over. */
  busy (peer: Peer): boolean
}

export class Connections {
  readonly peers = new Set<Peer>()
  /** What the client-wide cap may evict from (ConnectionSlots.rooms). */
  private readonly room: Room<Peer>
  private readonly opts: ConnectionsOptions
  private readonly host: ConnectionsHost
  private readonly metadata: MetadataExchange
  private readonly pex: PeerExchange<Peer> | null
  private readonly peerList: PeerList
  /** @internal BEP55 (tests read its stats). */
  readonly holepunch: Holepunch<Peer>
  private readonly dialing = new Set<string>()
  /** The pending dial of each address in `dialing`. */
  private readonly dials = new Map<string, Wire>()
  private readonly pending = new Set<Wire>()
  private closed = false
  /** archive.pause(): no peer is dialled, accepted or kept while set. */
  paused = false

  constructor (opts: ConnectionsOptions, host: ConnectionsHost) {
    this.opts = opts
    this.host = host
    this.room = { peers: this.peers, forget: (peer) => host.onClose(peer), busy: (peer) => host.busy(peer) }
    opts.slots?.rooms.add(this.room)
    this.metadata = new MetadataExchange(opts.hashes?.metadataHash ?? opts.infoHash, opts.info, (info) => host.onMetadata(info), (peer) => this.ban(peer), opts.slots?.limits.metadataTimeout)
    this.peerList = new PeerList({ redial: (address, source) => source === 'named' || this.wantsPeers ? this.connect(address, source) : 'full', self: () => reportedSelf(this.peers, opts.port) })
    this.pex = opts.pex === false
      ? null
      : new PeerExchange<Peer>({ connect: (address, from, flags) => {
        this.holepunch.introduced(address, from)
        // Told of on a hybrid's other hash: the peer may know only that one.
        if (from.wire.infoHash !== null) opts.hashes?.foundUnder(address, from.wire.infoHash)
        if (this.connect(address, 'pex') === 'dialled') this.holepunch.dialled(address, flags)
      }, isSeed: () => host.isSeed(), ...(opts.speaksUtp !== undefined ? { speaksUtp: opts.speaksUtp } : {}) })
    const dialUtp = opts.dialUtp
    this.holepunch = new Holepunch<Peer>({
      peers: this.peers,
      addressOf: (peer) => this.pex?.addressOf(peer) ?? (peer.outgoing ? peer.address : null),
      punch: dialUtp === undefined ? null : (address) => { this.abandon(address); this.connect(address, 'pex', dialUtp) },
      dialling: (address) => this.dials.has(address)
    })
  }

  /** Discovery should find more peers for this torrent. */
  get wantsPeers (): boolean {
    return !this.closed && !this.paused && this.peers.size + this.dialing.size < Math.min(WANTED_PEERS, this.opts.maxPeers ?? DEFAULT_MAX_PEERS)
  }

  /**
   * Dial "host:port", unless it is us, a peer we have or are dialling, or a limit is reached.
   * A fifth of maxPeers is kept for `named` peers (the user's): peers that others told us of
   * ('discovered': DHT, LSD, PEX) cannot take it, so a flood of addresses that are slow to
   * fail leaves room to dial the peers the user gave.
   */
  connect (address: string, source: PeerSource = 'named', dial: PeerDialer = this.opts.dial ?? dialTcp): 'dialled' | 'full' | 'skipped' {
    if (this.closed || this.paused || this.dialing.has(address) || this.isBanned(address)) return 'skipped'
    for (const peer of this.peers) if (peer.address === address || this.pex?.addressOf(peer) === address) return 'skipped'
    const { host, port } = parsePeerAddress(address)
    if (port === this.opts.port && isLocalAddress(host)) return 'skipped'
    if (!this.peerList.add(address, source)) return 'full'
    const max = this.opts.maxPeers ?? DEFAULT_MAX_PEERS
    if (this.peers.size + this.dialing.size >= (source === 'named' ? max : max - Math.ceil(max / 5))) return 'full'
    if (this.opts.slots !== undefined && !this.opts.slots.take()) return 'full'
    this.dialing.add(address)
    this.peerList.attempt(address)
    const wire = dial(host, port, { peerId: this.opts.peerId, connectTimeout: CONNECT_TIMEOUT })
    this.pending.add(wire)
    this.dials.set(address, wire)
    let shookAt = 0
    wire.once('close', () => {
      this.pending.delete(wire)
      this.opts.slots?.give()
      if (shookAt === 0) {
        // Abandoned for a holepunch, whose dial of the address is under way.
        if (this.dials.get(address) !== wire) return
        this.dials.delete(address)
      }
      this.dialing.delete(address)
      // Not up yet, or gone: the peer list dials it again later (named peers as long as we run).
      if (shookAt === 0) {
        this.peerList.failed(address)
        this.holepunch.failed(address)
      } else this.peerList.ended(address, Date.now() - shookAt)
    })
    wire.once('handshake', (hs) => {
      shookAt = Date.now()
      this.dials.delete(address)
      this.dialing.delete(address)
      this.pending.delete(wire)
      this.attach(wire, hs, address, true)
    })
    wire.sendHandshake(this.opts.hashes?.forAddress(address) ?? this.opts.infoHash, { extended: true, fast: true, dht: false, v2: this.opts.v2?.() === true })
    return 'dialled'
  }

  /** A holepunch dials `address` over uTP: a direct dial still pending goes (no failure is counted). */
  private abandon (address: string): void {
    const wire = this.dials.get(address)
    if (wire === undefined) return
    this.dials.delete(address)
    this.dialing.delete(address)
    wire.destroy()
  }

  /** An incoming connection whose handshake named our infohash (the client's listener routes them). */
  accept (wire: Wire, hs: Handshake): void {
    if (this.closed || this.paused || !admit(this.room, this.opts.maxPeers ?? DEFAULT_MAX_PEERS, this.opts.slots)) {
      wire.destroy()
      return
    }
    const slots = this.opts.slots
    if (slots !== undefined) wire.once('close', () => slots.give())
    // Answered with the hash the peer named: a hybrid's v1 or truncated v2 (the listener routed it here).
    wire.sendHandshake(this.opts.hashes?.answers(hs.infoHash) === true ? hs.infoHash : this.opts.infoHash, { extended: true, fast: true, dht: false, v2: this.opts.v2?.() === true })
    this.attach(wire, hs, formatAddress(unmapped(wire.remoteAddress ?? '?'), wire.remotePort ?? 0), false)
  }

  /** The peer sent data that failed the hash check, or a metadata piece that did: never again. */
  ban (peer: Peer, reason = 'sent data that failed the hash check'): void {
    this.peerList.ban(peer.address, reason, peer.wire.peerId?.toString('hex'))
    peer.destroy(new TrackerlessError('EPROTO', `peer ${peer.address} ${reason}; banned`))
  }

  onExtendedHandshake (peer: Peer): void {
    this.metadata.addPeer(peer)
    this.pex?.onExtendedHandshake(peer)
    const yourip = peer.wire.peerExtensions?.yourip
    const from = peer.wire.remoteAddress
    if (yourip !== undefined && from !== undefined) this.opts.reportAddress?.(unmapped(ipFromBytes(yourip, 0, yourip.length as 4 | 16)), unmapped(from))
  }

  /** ut_metadata, ut_pex and ut_holepunch; throws on a message that warrants a disconnect. */
  onExtended (peer: Peer, name: 'ut_metadata' | 'ut_pex' | 'ut_holepunch', payload: Buffer): void {
    if (name === 'ut_metadata') this.metadata.onMessage(peer, payload)
    else if (name === 'ut_holepunch') this.holepunch.onMessage(peer, payload)
    else this.pex?.onMessage(peer, payload)
  }

  /** Removes a closed peer; false when it was not one of ours (already removed). */
  remove (peer: Peer): boolean {
    if (!this.peers.delete(peer)) return false
    // BEP7: the IPv6 address an IPv4 peer named, dialled like a PEX peer once this connection ends.
    const hint = ipv6Hint(peer.wire.peerExtensions, peer.wire.remoteAddress)
    if (hint !== null) this.peerList.add(hint, 'pex')
    if (!peer.outgoing) this.peerList.ended(peer.address, Date.now() - peer.connectedAt)
    this.metadata.removePeer(peer)
    this.pex?.remove(peer)
    this.holepunch.remove(peer)
    return true
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.opts.slots?.rooms.delete(this.room)
    this.metadata.close()
    this.pex?.close()
    this.holepunch.close()
    this.peerList.close()
    for (const wire of this.pending) wire.destroy()
    for (const peer of this.peers) peer.destroy()
  }

  /** Why the address (or peer id, hex) is banned; undefined when it is not. */
  banReason (address: string, id?: string): string | undefined {
    return this.peerList.banReason(address, id)
  }

  private isBanned (address: string, id?: string): boolean {
    return this.banReason(address, id) !== undefined
  }

  private attach (wire: Wire, hs: Handshake, address: string, outgoing: boolean): void {
    if (this.paused) return wire.destroy()
    if (hs.peerId.equals(this.opts.peerId) || this.isBanned(address, hs.peerId.toString('hex'))) {
      this.peerList.remove(address)
      wire.destroy()
      return
    }
    for (const peer of this.peers) {
      if (peer.wire.peerId?.equals(hs.peerId) !== true) continue
      if (peer.outgoing === outgoing || this.keepsOutgoing(outgoing ? wire : peer.wire, hs.peerId) !== outgoing) {
        wire.destroy()
        return
      }
      peer.destroy()
    }
    const peer = new Peer(wire, address, outgoing, this.host)
    this.peerList.connected(address, wire.transport, outgoing)
    this.peers.add(peer)
    this.pex?.add(peer)
    if (hs.extended) {
      wire.sendExtendedHandshake({
        m: { ...EXTENSIONS },
        v: this.opts.clientName,
        reqq: UPLOAD_QUEUE,
        p: this.opts.advertisedPort?.() ?? this.opts.port,
        ...(this.metadata.info !== null ? { metadataSize: this.metadata.info.length } : {}),
        ...youripField(wire.remoteAddress),
        ...ipv6Field(wire.remoteAddress, this.opts.ownIpv6?.()),
        uploadOnly: this.host.wantsNothing()
      })
    }
    this.host.onPeer(peer)
  }

  /**
   * Two peers that dial each other at once each hold two connections to the other. Keeping the
   * first to finish its handshake, as both ends would, can leave each end keeping the one the
   * other drops, and then they lose both. libtorrent's rule makes both ends agree: the end with
   * the lower listening port keeps the connection it dialled. Equal ports (two hosts) fall back
   * to the lower peer id, which other trackerless ends agree on too. `dialled` is whichever of the
   * two connections we dialled: its remote port is the peer's listening port.
   */
  private keepsOutgoing (dialled: Wire, theirId: PeerId): boolean {
    const theirPort = dialled.remotePort ?? 0
    const ours = this.opts.port
    return ours !== theirPort ? ours < theirPort : Buffer.compare(this.opts.peerId, theirId) < 0
  }
}
