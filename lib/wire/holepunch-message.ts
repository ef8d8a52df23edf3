/**
 * BEP55 ut_holepunch messages: msg_type (1 byte), addr_type (1: 0 IPv4, 1 IPv6), the address
 * (4 or 16 bytes), the port (2), err_code (4, big-endian; 0 except in errors).
 */
import { ipFromBytes, ipToCompact } from './compact-ip.js'

export type HolepunchType = 'rendezvous' | 'connect' | 'error'

/** BEP55's err_code values. */
export const HOLEPUNCH_ERROR = { noSuchPeer: 1, notConnected: 2, noSupport: 3, noSelf: 4 } as const

export interface HolepunchMessage {
  type: HolepunchType
  host: string
  port: number
  /** err_code: 0 unless `type` is 'error'. */
  error: number
}

const TYPES: readonly HolepunchType[] = ['rendezvous', 'connect', 'error']

/** Encodes a message; err_code is always written (BEP55), 0 outside errors. Throws on a host that
 *  is not an IP address (our own callers only pass addresses they parsed). */
export function encodeHolepunch (msg: HolepunchMessage): Buffer {
  const ip = ipToCompact(msg.host)
  if (ip === null) throw new TypeError(`not an IP address: ${msg.host}`)
  const out = Buffer.alloc(2 + ip.length + 6)
  out[0] = TYPES.indexOf(msg.type)
  out[1] = ip.length === 4 ? 0 : 1
  ip.copy(out, 2)
  out.writeUInt16BE(msg.port, 2 + ip.length)
  out.writeUInt32BE(msg.type === 'error' ? msg.error : 0, 4 + ip.length)
  return out
}

/**
 * Decodes a message; null for anything malformed (unknown type or address type, too short).
 * Tolerant as libtorrent is: older libtorrent leaves err_code out of rendezvous and connect, and
 * bytes after err_code are ignored. An error message must carry its code. Never throws.
 */
export function decodeHolepunch (payload: Uint8Array): HolepunchMessage | null {
  if (payload.length < 2) return null
  const type = TYPES[payload[0]!]
  const size = payload[1] === 0 ? 4 : payload[1] === 1 ? 16 : 0
  if (type === undefined || size === 0 || payload.length < 2 + size + 2) return null
  const host = ipFromBytes(payload, 2, size)
  const port = (payload[2 + size]! << 8) | payload[3 + size]!
  const at = 4 + size
  const hasCode = payload.length >= at + 4
  if (type === 'error' && !hasCode) return null
  const error = type === 'error' ? Buffer.from(payload.buffer, payload.byteOffset, payload.length).readUInt32BE(at) : 0
  return { type, host, port, error }
}
