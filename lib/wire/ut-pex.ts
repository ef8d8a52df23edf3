import bencode from 'bencode'
import { isIPv4, isIPv6 } from 'node:net'
import { decodeDict, field } from './extended.js'
import { ipFromBytes, ipToBytes } from './compact-ip.js'

/** BEP11 flags of an added peer. */
export const PEX_FLAGS = {
  prefersEncryption: 0x01,
  /** A seed, or uploads only. */
  seed: 0x02,
  utp: 0x04,
  holepunch: 0x08,
  /** The sender dialled it, so it accepts incoming connections. */
  reachable: 0x10
} as const

/** BEP11 caps what a client should send in one message; we decode a few times that and drop the rest. */
export const MAX_PEX_PEERS = 50
const MAX_DECODED = 4 * MAX_PEX_PEERS
/** 200 IPv6 entries with flags in four lists come to about 8 KiB; anything far larger is abuse. */
export const MAX_PEX_MESSAGE = 16 * 1024

export interface PexPeerAddress {
  /** IPv4 dotted quad or IPv6 in its canonical (compressed) form, without brackets. */
  host: string
  port: number
}

export interface PexEntry extends PexPeerAddress {
  flags: number
}

export interface PexMessage {
  added: PexEntry[]
  dropped: PexPeerAddress[]
}

/**
 * Encodes a ut_pex payload: IPv4 peers in `added`/`added.f`/`dropped`, IPv6 ones in the `6`
 * lists. Hosts that are not IP addresses are left out (peers are exchanged as compact addresses).
 */
export function encodePexMessage (msg: PexMessage): Buffer {
  const added4 = msg.added.filter((p) => isIPv4(p.host))
  const added6 = msg.added.filter((p) => isIPv6(p.host))
  const dict = {
    added: compact(added4, 4),
    'added.f': Buffer.from(added4.map((p) => p.flags & 0xff)),
    added6: compact(added6, 16),
    'added6.f': Buffer.from(added6.map((p) => p.flags & 0xff)),
    dropped: compact(msg.dropped.filter((p) => isIPv4(p.host)), 4),
    dropped6: compact(msg.dropped.filter((p) => isIPv6(p.host)), 16)
  }
  return Buffer.from(bencode.encode(dict))
}

/**
 * Decodes a ut_pex payload from a peer. Malformed bencoding or an oversized message is EPROTO;
 * anything else odd is forgiven: missing lists are empty, a trailing partial entry and port 0 are
 * skipped, missing flags are 0, and past MAX_DECODED entries per list the rest is ignored.
 */
export function decodePexMessage (payload: Buffer): PexMessage {
  const { dict } = decodeDict(payload, 'ut_pex message', MAX_PEX_MESSAGE)
  const bytes = (key: string): Buffer => {
    const value = field(dict, key)
    return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.alloc(0)
  }
  return {
    added: [...withFlags(bytes('added'), bytes('added.f'), 4), ...withFlags(bytes('added6'), bytes('added6.f'), 16)]
      .slice(0, MAX_DECODED),
    dropped: [...parseCompact(bytes('dropped'), 4), ...parseCompact(bytes('dropped6'), 16)].slice(0, MAX_DECODED)
  }
}

/** Flags pair with entries by position, so they are read before port-0 entries are skipped. */
function withFlags (list: Buffer, flags: Buffer, size: 4 | 16): PexEntry[] {
  const stride = size + 2
  const count = Math.min(Math.floor(list.length / stride), MAX_DECODED)
  const out: PexEntry[] = []
  for (let i = 0; i < count; i++) {
    const [peer] = parseCompact(list.subarray(i * stride, (i + 1) * stride), size)
    if (peer !== undefined) out.push({ ...peer, flags: flags[i] ?? 0 })
  }
  return out
}

function compact (peers: PexPeerAddress[], size: 4 | 16): Buffer {
  const out = Buffer.alloc(peers.length * (size + 2))
  peers.forEach((p, i) => {
    const at = i * (size + 2)
    ipToBytes(p.host)!.copy(out, at)
    out.writeUInt16BE(p.port & 0xffff, at + size)
  })
  return out
}

/** Whole entries only, at most MAX_DECODED; port 0 is skipped. */
function parseCompact (buf: Buffer, size: 4 | 16): PexPeerAddress[] {
  const stride = size + 2
  const count = Math.min(Math.floor(buf.length / stride), MAX_DECODED)
  const peers: PexPeerAddress[] = []
  for (let i = 0; i < count; i++) {
    const at = i * stride
    const port = buf.readUInt16BE(at + size)
    if (port === 0) continue
    peers.push({ host: ipFromBytes(buf, at, size), port })
  }
  return peers
}
