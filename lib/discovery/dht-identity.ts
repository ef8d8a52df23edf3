import net from 'node:net'
import type dgram from 'node:dgram'
import bencode from 'bencode'
import type DHT from 'bittorrent-dht'
import type { DhtInternals } from 'bittorrent-dht'
import { bep42NodeId, isBep42Exempt, isBep42Valid } from './bep42.js'
import { subscriberKey, type DhtFamily } from './dht-family.js'
import { ipFromBytes, ipToBytes, ipToCompact } from '../wire/compact-ip.js'

/** Distinct addresses that must report the same external address before we believe it. */
export const VOTES_NEEDED = 5
/** Candidate addresses counted at once: a flood of made-up ones cannot grow the tally. */
const MAX_CANDIDATES = 16
const IP_FIELD = Buffer.from('2:ip')
const IP_FIELDS = [Buffer.from('2:ip6:'), Buffer.from('2:ip18:')]

/**
 * Whether `ip` is a public address of `family`, one a BEP42 id can be derived from: for IPv6, a
 * global unicast one (2000::/3), which also leaves out the ranges the guard exempts.
 */
export function isPublicAddress (ip: string, family: DhtFamily): boolean {
  if (family === 4) return net.isIPv4(ip) && !isBep42Exempt(ip)
  const bytes = net.isIPv6(ip) ? ipToBytes(ip) : null
  return bytes !== null && (bytes[0]! & 0xe0) === 0x20
}

/**
 * Our external address of `family` (default IPv4), as the nodes and peers we talk to see it
 * (BEP42's `ip` in KRPC responses, BEP10's `yourip`): believed once VOTES_NEEDED distinct voters
 * agree, an IPv6 voter counted by its /64 (one subscriber holds all of it). Only public addresses
 * count: behind a NAT or on a LAN no id is checked (BEP42).
 */
export class ExternalAddressVote {
  private readonly votes = new Map<string, Set<string>>()
  private current: string | null = null

  constructor (private readonly onChange: (ip: string) => void, private readonly family: DhtFamily = 4) {}

  get address (): string | null {
    return this.current
  }

  add (ip: string, voter: string): void {
    if (!isPublicAddress(ip, this.family) || ip === this.current) return
    let voters = this.votes.get(ip)
    if (voters === undefined) {
      if (this.votes.size >= MAX_CANDIDATES) return
      voters = new Set()
      this.votes.set(ip, voters)
    }
    voters.add(subscriberKey(voter))
    if (voters.size < VOTES_NEEDED) return
    this.current = ip
    this.votes.clear()
    this.onChange(ip)
  }
}

/** The `ip` field (BEP42: compact IPv4 or IPv6 address and port) of a KRPC response, or null. */
export function reportedAddress (buf: Buffer): string | null {
  // Most packets carry no `ip`: only those that do are decoded a second time.
  if (!IP_FIELDS.some((field) => buf.includes(field))) return null
  try {
    const message = bencode.decode(buf) as { y?: unknown, ip?: unknown }
    const y = message.y instanceof Uint8Array ? Buffer.from(message.y).toString() : ''
    if (y !== 'r' || !(message.ip instanceof Uint8Array) || (message.ip.length !== 6 && message.ip.length !== 18)) return null
    return ipFromBytes(message.ip, 0, message.ip.length === 6 ? 4 : 16)
  } catch {
    return null
  }
}

const RESPONSE_START = Buffer.from('d1:r')
const RESPONSE_END = Buffer.from('1:y1:re')

/**
 * Our KRPC response `buf` to `host`:`port` with BEP42's `ip` (the asker's address as we see
 * it, 6 or 18 bytes, which k-rpc does not send): `ip` sorts before `r`, the first key of a response, so it goes
 * right after the opening `d`. Anything else goes out unchanged.
 */
export function withReportedAddress (buf: Buffer, host: string, port: number): Buffer {
  if (!buf.subarray(0, RESPONSE_START.length).equals(RESPONSE_START) || !buf.subarray(-RESPONSE_END.length).equals(RESPONSE_END)) return buf
  const ip = ipToCompact(host)
  if (ip === null) return buf
  const compact = Buffer.alloc(ip.length + 2)
  ip.copy(compact)
  compact.writeUInt16BE(port, ip.length)
  return Buffer.concat([buf.subarray(0, 1), IP_FIELD, Buffer.from(`${compact.length}:`), compact, buf.subarray(1)])
}

/**
 * Gives a running bittorrent-dht node a new id, which it has no method for: the id its k-rpc
 * sends, and a routing table rebuilt around it with the nodes it had (k-rpc's clear() makes the
 * table and hooks its ping handling); `watch` sees the new table before any node enters it.
 */
export function rekey (dht: DHT, id: Buffer, watch: (table: DHT['nodes']) => void): void {
  const internals = dht as unknown as DhtInternals
  const rpc = internals._rpc
  const known = rpc.nodes.toArray()
  rpc.id = id
  internals.nodeId = id
  rpc.clear()
  rpc.nodes.metadata.lastChange = Date.now()
  internals.nodes = rpc.nodes
  watch(rpc.nodes)
  for (const node of known) rpc.nodes.add(node)
}

/**
 * Keeps our node id BEP42-valid for our external address: counts the `ip` reported in answers
 * to our queries (the guard passes no other response), and what peers report through `report`,
 * and gives the node a new id when the address changes.
 */
export class DhtIdentity {
  private readonly vote: ExternalAddressVote

  constructor (private readonly dht: DHT, watch: (table: DHT['nodes']) => void, family: DhtFamily = 4) {
    // An IPv6 id depends on the /64 alone: a new address in the same /64 keeps the id.
    this.vote = new ExternalAddressVote((ip) => {
      const id = isBep42Valid(ip, this.dht.nodeId) ? null : bep42NodeId(ip)
      if (id !== null) rekey(this.dht, id, watch)
    }, family)
  }

  get externalAddress (): string | null {
    return this.vote.address
  }

  /** Sees each answer to our queries. */
  observe (buf: Buffer, from: dgram.RemoteInfo): void {
    const ip = reportedAddress(buf)
    if (ip !== null) this.vote.add(ip, from.address)
  }

  /** `ip` is our address as `from` sees it (BEP10's `yourip`, say). */
  report (ip: string, from: string): void {
    this.vote.add(ip, from)
  }
}
