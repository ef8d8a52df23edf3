/**
 * BEP21 upload_only, both ways. We tell our peers when we hold everything we selected (a seed, or
 * a partial seed) and when that ends (the selection grew): an updated extended handshake, as BEP21
 * says, and libtorrent's one-byte `upload_only` extension message to the peers that named it in
 * their `m` (libtorrent takes a later handshake's upload_only only to set it, never to clear it).
 * We read both. A peer that only uploads (a seed, or one that said upload_only) has nothing for us
 * once we only upload too, and we have nothing for it: the connection is closed, as libtorrent
 * closes its "upload to upload" connections.
 */
import { TrackerlessError } from '../errors.js'
import type { Peer } from './peer.js'

export class UploadOnly {
  private readonly peers: ReadonlySet<Peer>
  /** We want nothing of anyone (Download.uploadOnly). */
  private readonly ours: () => boolean

  constructor (peers: ReadonlySet<Peer>, ours: () => boolean) {
    this.peers = peers
    this.ours = ours
  }

  /** The peer only uploads: it is a seed or said upload_only. */
  uploadsOnly (peer: Peer): boolean {
    return peer.isSeed || peer.uploadOnly
  }

  /** The peer's extended handshake (its fields merged over the earlier ones). */
  onHandshake (peer: Peer): void {
    const value = peer.wire.peerExtensions?.uploadOnly
    if (value !== undefined) peer.uploadOnly = value
    this.check(peer)
  }

  /** libtorrent's upload_only message: one byte, nonzero for true. */
  onMessage (peer: Peer, payload: Buffer): void {
    if (payload.length < 1) throw new TrackerlessError('EPROTO', 'peer sent an empty upload_only message; disconnected')
    peer.uploadOnly = payload[0] !== 0
    this.check(peer)
  }

  /** Closes the connection when neither end wants anything of the other. */
  check (peer: Peer): void {
    if (this.ours() && this.uploadsOnly(peer)) peer.destroy()
  }

  /** Our side changed (complete, or not any more): tell every peer, and close the useless ones. */
  changed (uploadOnly: boolean): void {
    for (const peer of [...this.peers]) {
      peer.wire.sendExtendedHandshake({ uploadOnly })
      peer.wire.sendExtended('upload_only', Buffer.from([uploadOnly ? 1 : 0]))
      this.check(peer)
    }
  }
}
