/**
 * NAT-PMP (RFC 6886) messages: what we send to the gateway and what we accept back. Replies are
 * untrusted bytes from the LAN; anything not exactly a reply to the request we sent decodes to null.
 */

export type MappedProtocol = 'udp' | 'tcp'

export const PMP_PORT = 5351
const VERSION = 0
const OP_ADDRESS = 0
const OP_MAP = { udp: 1, tcp: 2 } as const
const REPLY = 128
/** Result codes of RFC 6886 §3.5, for the failure message. */
const RESULTS = ['success', 'unsupported version', 'not authorized or refused', 'network failure', 'out of resources', 'unsupported opcode']

/** The external address request (opcode 0). */
export function encodeAddressRequest (): Buffer {
  return Buffer.from([VERSION, OP_ADDRESS])
}

/** A mapping request; lifetime 0 with external port 0 deletes the mapping of `internalPort`. */
export function encodeMapRequest (protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Buffer {
  const out = Buffer.alloc(12)
  out[0] = VERSION
  out[1] = OP_MAP[protocol]
  out.writeUInt16BE(internalPort, 4)
  out.writeUInt16BE(externalPort, 6)
  out.writeUInt32BE(lifetime, 8)
  return out
}

export type PmpReply =
  | { op: 'address', result: number, epoch: number, address: string }
  | { op: MappedProtocol, result: number, epoch: number, internalPort: number, externalPort: number, lifetime: number }

/** Decodes a reply; null for anything else (our own requests, other versions, short packets). */
export function decodeReply (bytes: Uint8Array): PmpReply | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // A result other than success may come in a short packet (RFC 6886 §3.5: 8 bytes); the
  // address and port fields are then absent.
  if (b.length < 8 || b[0] !== VERSION) return null
  const result = b.readUInt16BE(2)
  const epoch = b.readUInt32BE(4)
  if (b[1] === REPLY + OP_ADDRESS) {
    if (result !== 0) return { op: 'address', result, epoch, address: '' }
    if (b.length < 12) return null
    return { op: 'address', result, epoch, address: `${b[8]}.${b[9]}.${b[10]}.${b[11]}` }
  }
  const op = b[1] === REPLY + OP_MAP.udp ? 'udp' : b[1] === REPLY + OP_MAP.tcp ? 'tcp' : null
  if (op === null) return null
  if (result !== 0) return { op, result, epoch, internalPort: 0, externalPort: 0, lifetime: 0 }
  if (b.length < 16) return null
  return { op, result, epoch, internalPort: b.readUInt16BE(8), externalPort: b.readUInt16BE(10), lifetime: b.readUInt32BE(12) }
}

/** The words of RFC 6886 for a result code. */
export function resultText (result: number): string {
  return RESULTS[result] ?? `result code ${result}`
}
