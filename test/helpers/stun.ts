const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const XOR_MAPPED_ADDRESS = 0x0020
const MAGIC_COOKIE = 0x2112a442

/**
 * The binding success response to a STUN binding request from `address:port` (IPv4), or null for
 * anything that is not one: the header's type, cookie and length must hold (RFC 5389 §6).
 */
export function stunReply (request: Buffer, address: string, port: number): Buffer | null {
  if (request.length < 20 || request.readUInt16BE(0) !== BINDING_REQUEST) return null
  if (request.readUInt32BE(4) !== MAGIC_COOKIE || request.readUInt16BE(2) !== request.length - 20) return null
  const octets = address.split('.').map(Number)
  if (octets.length !== 4) return null
  const out = Buffer.alloc(32)
  out.writeUInt16BE(BINDING_SUCCESS, 0)
  out.writeUInt16BE(12, 2)
  request.copy(out, 4, 4, 20)
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20)
  out.writeUInt16BE(8, 22)
  out[25] = 1
  out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26)
  out.writeUInt32BE((((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) ^ MAGIC_COOKIE) >>> 0, 28)
  return out
}
