/**
 * The uTP packet (BEP29): a 20-byte header, a chain of extensions, then the payload. decode()
 * never throws on untrusted bytes: anything it cannot read as a uTP packet is null.
 */

export const ST_DATA = 0
export const ST_FIN = 1
export const ST_STATE = 2
export const ST_RESET = 3
export const ST_SYN = 4
export type PacketType = typeof ST_DATA | typeof ST_FIN | typeof ST_STATE | typeof ST_RESET | typeof ST_SYN

export const VERSION = 1
export const HEADER_SIZE = 20
const EXT_SACK = 1
/** A selective ACK names at most this many bytes of bits (BEP29 allows any multiple of 4; the
 *  length byte caps it at 252). */
export const MAX_SACK_BYTES = 252

export interface Packet {
  type: PacketType
  connectionId: number
  /** Sender's clock, microseconds, modulo 2^32. */
  timestamp: number
  /** Sender's clock at arrival of our last packet minus that packet's timestamp, modulo 2^32. */
  timestampDiff: number
  /** Bytes the sender can still receive. */
  window: number
  seq: number
  ack: number
  /** Bit i set: packet ack + 2 + i was received. */
  sack?: Uint8Array
  payload: Uint8Array
}

/** True when the datagram's first byte can start a uTP packet (a bencoded DHT message starts with
 *  'd' = 0x64, whose low nibble is 4). */
export function looksLikeUtp (msg: Uint8Array): boolean {
  return msg.length >= HEADER_SIZE && (msg[0]! & 0x0f) === VERSION && (msg[0]! >> 4) <= ST_SYN
}

export function encodedSize (p: Pick<Packet, 'sack' | 'payload'>): number {
  return HEADER_SIZE + (p.sack === undefined ? 0 : 2 + p.sack.length) + p.payload.length
}

/** Writes the header fields that change on every (re)transmission. */
export function writeTimes (buf: Buffer, timestamp: number, timestampDiff: number, window: number, ack: number): void {
  buf.writeUInt32BE(timestamp >>> 0, 4)
  buf.writeUInt32BE(timestampDiff >>> 0, 8)
  buf.writeUInt32BE(Math.max(0, Math.min(window, 0xffffffff)) >>> 0, 12)
  buf.writeUInt16BE(ack & 0xffff, 18)
}

export function encode (p: Packet): Buffer {
  if (p.sack !== undefined && (p.sack.length === 0 || p.sack.length % 4 !== 0 || p.sack.length > MAX_SACK_BYTES)) {
    throw new RangeError('a selective ACK is 4 to 252 bytes, a multiple of 4')
  }
  const buf = Buffer.allocUnsafe(encodedSize(p))
  buf[0] = (p.type << 4) | VERSION
  buf[1] = p.sack === undefined ? 0 : EXT_SACK
  buf.writeUInt16BE(p.connectionId & 0xffff, 2)
  writeTimes(buf, p.timestamp, p.timestampDiff, p.window, p.ack)
  buf.writeUInt16BE(p.seq & 0xffff, 16)
  let at = HEADER_SIZE
  if (p.sack !== undefined) {
    buf[at] = 0
    buf[at + 1] = p.sack.length
    buf.set(p.sack, at + 2)
    at += 2 + p.sack.length
  }
  buf.set(p.payload, at)
  return buf
}

export function decode (msg: Uint8Array): Packet | null {
  if (!looksLikeUtp(msg)) return null
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  const type = (msg[0]! >> 4) as PacketType
  let ext = msg[1]!
  let at = HEADER_SIZE
  let sack: Uint8Array | undefined
  // Each extension takes at least 2 bytes, so the chain ends within the datagram.
  while (ext !== 0) {
    if (at + 2 > msg.length) return null
    const next = msg[at]!
    const len = msg[at + 1]!
    if (at + 2 + len > msg.length) return null
    if (ext === EXT_SACK) {
      // BEP29 asks for a multiple of 4 bytes, which we send; libtorrent sends (span + 7) / 8 bytes
      // and dropping its packets stalled every transfer with it, so any length is taken.
      if (len === 0 || sack !== undefined) return null
      sack = msg.subarray(at + 2, at + 2 + len)
    }
    // Unknown extensions are skipped, as BEP29 asks.
    ext = next
    at += 2 + len
  }
  return {
    type,
    connectionId: view.getUint16(2),
    timestamp: view.getUint32(4),
    timestampDiff: view.getUint32(8),
    window: view.getUint32(12),
    seq: view.getUint16(16),
    ack: view.getUint16(18),
    sack,
    payload: msg.subarray(at)
  }
}

/** a - b on the 16-bit sequence circle, in [-32768, 32767]. */
export function seqDiff (a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000
}

export function seqAdd (a: number, n: number): number {
  return (a + n) & 0xffff
}
