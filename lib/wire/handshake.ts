import { fail } from '../errors.js'
import { asInfoHash, asPeerId, type InfoHash, type PeerId } from '../util/ids.js'

/** BEP3 handshake: pstrlen, "BitTorrent protocol", 8 reserved bytes, infohash, peer id. */
export const HANDSHAKE_LENGTH = 68

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1')

/** What the reserved bits announce (BEP10 extended, BEP6 fast, BEP5 DHT, BEP52 v2). */
export interface HandshakeFlags {
  extended: boolean
  fast: boolean
  dht: boolean
  /** BEP52: the sender speaks the v2 hash messages for this torrent (0x10 in the last reserved
   *  byte, as libtorrent sets it). Absent when encoding means off. */
  v2?: boolean
}

export interface Handshake extends HandshakeFlags {
  infoHash: InfoHash
  peerId: PeerId
}

export function encodeHandshake (h: Handshake): Buffer {
  const out = Buffer.alloc(HANDSHAKE_LENGTH)
  PROTOCOL.copy(out, 0)
  if (h.extended) out[25] = 0x10
  out[27] = (h.v2 === true ? 0x10 : 0) | (h.fast ? 0x04 : 0) | (h.dht ? 0x01 : 0)
  out.set(h.infoHash, 28)
  out.set(h.peerId, 48)
  return out
}

/**
 * Decodes exactly 68 bytes. The infohash and peer id are copied out so that the caller may keep
 * them while the chunk they came in is reused or released.
 */
export function decodeHandshake (bytes: Buffer): Handshake {
  if (bytes.length !== HANDSHAKE_LENGTH || !bytes.subarray(0, 20).equals(PROTOCOL)) {
    fail('EPROTO', 'the peer did not open with a BitTorrent handshake; it is not a BitTorrent peer, so drop it')
  }
  return {
    infoHash: asInfoHash(Buffer.from(bytes.subarray(28, 48))),
    peerId: asPeerId(Buffer.from(bytes.subarray(48, 68))),
    extended: (bytes[25]! & 0x10) !== 0,
    fast: (bytes[27]! & 0x04) !== 0,
    dht: (bytes[27]! & 0x01) !== 0,
    v2: (bytes[27]! & 0x10) !== 0
  }
}
