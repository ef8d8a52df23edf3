/**
 * PCP (RFC 6887) ANNOUNCE and MAP messages for IPv4. Replies are untrusted bytes from the LAN:
 * anything that is not a well-formed version 2 response decodes to null.
 */
import type { MappedProtocol } from './pmp-packet.js'

const VERSION = 2
const OP_ANNOUNCE = 0
const OP_MAP = 1
const RESPONSE = 0x80
const HEADER = 24
const MAP_BODY = 36
const IANA_PROTOCOL = { tcp: 6, udp: 17 } as const
/** Result codes of RFC 6887 §7.4, for the failure message. */
const RESULTS = ['success', 'unsupported version', 'not authorized', 'malformed request', 'unsupported opcode', 'unsupported option',
  'malformed option', 'network failure', 'no resources', 'unsupported protocol', 'user exceeded quota', 'cannot provide external',
  'address mismatch', 'excessive remote peers']

export type PcpReply =
  | { op: 'announce', result: number, lifetime: number, epoch: number }
  | { op: 'map', result: number, lifetime: number, epoch: number, nonce: Buffer, protocol: number, internalPort: number, externalPort: number, externalAddress: string }

/** The common header; `client` is our IPv4 address as the server sees it. */
function header (op: number, lifetime: number, client: string, bodyLength: number): Buffer {
  const out = Buffer.alloc(HEADER + bodyLength)
  out[0] = VERSION
  out[1] = op
  out.writeUInt32BE(lifetime, 4)
  writeMappedIPv4(out, 8, client)
  return out
}

export function encodeAnnounce (client: string): Buffer {
  return header(OP_ANNOUNCE, 0, client, 0)
}

/** A MAP request; lifetime 0 (with the mapping's nonce) deletes it. Any external address is asked for. */
export function encodeMap (client: string, nonce: Uint8Array, protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Buffer {
  const out = header(OP_MAP, lifetime, client, MAP_BODY)
  Buffer.from(nonce).copy(out, HEADER, 0, 12)
  out[HEADER + 12] = IANA_PROTOCOL[protocol]
  out.writeUInt16BE(internalPort, HEADER + 16)
  out.writeUInt16BE(externalPort, HEADER + 18)
  writeMappedIPv4(out, HEADER + 20, '0.0.0.0')
  return out
}

export function decodePcpReply (bytes: Uint8Array): PcpReply | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (b.length < HEADER || b[0] !== VERSION || (b[1]! & RESPONSE) === 0) return null
  const result = b[3]!
  const lifetime = b.readUInt32BE(4)
  const epoch = b.readUInt32BE(8)
  const op = b[1]! & 0x7f
  if (op === OP_ANNOUNCE) return { op: 'announce', result, lifetime, epoch }
  if (op !== OP_MAP || b.length < HEADER + MAP_BODY) return null
  const body = b.subarray(HEADER)
  return {
    op: 'map',
    result,
    lifetime,
    epoch,
    nonce: Buffer.from(body.subarray(0, 12)),
    protocol: body[12]!,
    internalPort: body.readUInt16BE(16),
    externalPort: body.readUInt16BE(18),
    externalAddress: readMappedIPv4(body, 20) ?? ''
  }
}

export function pcpProtocolNumber (protocol: MappedProtocol): number {
  return IANA_PROTOCOL[protocol]
}

export function pcpResultText (result: number): string {
  return RESULTS[result] ?? `result code ${result}`
}

/** ::ffff:a.b.c.d, the form PCP carries IPv4 addresses in. */
function writeMappedIPv4 (out: Buffer, offset: number, address: string): void {
  out.writeUInt16BE(0xffff, offset + 10)
  address.split('.').forEach((octet, i) => { out[offset + 12 + i] = Number(octet) & 255 })
}

function readMappedIPv4 (b: Buffer, offset: number): string | null {
  for (let i = 0; i < 10; i++) if (b[offset + i] !== 0) return null
  if (b.readUInt16BE(offset + 10) !== 0xffff) return null
  return [...b.subarray(offset + 12, offset + 16)].join('.')
}
