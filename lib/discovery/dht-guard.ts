import { EventEmitter } from 'node:events'
import type dgram from 'node:dgram'
import type { AddressInfo } from 'node:net'
import type { DhtNodeInfo, DhtSocket, RoutingTable } from 'bittorrent-dht'
import { isBep42Exempt, isBep42Valid } from './bep42.js'
import { withReportedAddress } from './dht-identity.js'
import { subscriberKey } from './dht-family.js'

export interface DhtGuardOptions {
  /**
   * Addresses the per-address limits do not apply to (default: BEP42's local ranges, where
   * many honest nodes share one address, as every node of a test shares 127.0.0.1).
   */
  exempt?: (host: string) => boolean
  /** Refuse routing-table nodes whose id is not BEP42-valid for their address (default true). */
  enforceNodeId?: boolean
  /** Packets one address may send at once, then `perSecond` (defaults 25 and 5: libtorrent blocks past 5 a second). */
  burst?: number
  perSecond?: number
  /** Clock of the rate limit (ms). */
  now?: () => number
  /** Addresses the rate limit remembers; the least recently heard is forgotten first. */
  maxSources?: number
}

/** Why packets or nodes were refused, counted since start. */
export interface DhtGuardStats {
  /** Packets dropped unread: their address was past its rate. */
  rateLimited: number
  /** Responses dropped unread: we had no query out to their address. */
  unsolicited: number
  /** Nodes refused: the routing table already holds another node at their address. */
  sameAddress: number
  /** Nodes refused: their id is not BEP42-valid for their address. */
  badNodeId: number
}

export type Refusal = 'sameAddress' | 'badNodeId'

export interface AdmissionPolicy {
  exempt: (host: string) => boolean
  enforceNodeId: boolean
}

/**
 * Whether a node may enter the routing table, given the id of the node the table holds at its
 * address (if any): at most one node per address (libtorrent's dht_restrict_routing_ips) and,
 * when enforced, a BEP42 id; exempt addresses pass.
 */
export function admission (node: { host: string, id: Uint8Array }, holder: Uint8Array | undefined, policy: AdmissionPolicy): Refusal | null {
  if (policy.exempt(node.host)) return null
  if (policy.enforceNodeId && !isBep42Valid(node.host, node.id)) return 'badNodeId'
  if (holder !== undefined && !Buffer.from(holder).equals(node.id)) return 'sameAddress'
  return null
}

/** A token bucket per source address, in a map bounded by `maxSources`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()
  constructor (private readonly burst: number, private readonly perSecond: number, private readonly now: () => number, private readonly maxSources: number) {}

  allow (source: string): boolean {
    const now = this.now()
    const bucket = this.buckets.get(source) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perSecond / 1000)
    bucket.at = now
    // Re-inserted: the map's order is then least recently heard first, the one to forget.
    this.buckets.delete(source)
    this.buckets.set(source, bucket)
    if (this.buckets.size > this.maxSources) this.buckets.delete(this.buckets.keys().next().value!)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }
}

/** A query we send ends so (bencode sorts keys, and `y` is the last of t, y, q, a). */
const QUERY_END = Buffer.from('1:y1:qe')
/** How long an answer to our query is awaited: k-rpc-socket gives up after 2 s. */
const ANSWER_WINDOW = 10_000

/**
 * The queries we have out, per address (an IPv6 one by its /64, as the rate limit and the routing
 * table count it): a response from an address we did not ask is dropped (k-rpc would add its
 * sender to the routing table, though no query of ours matches it). Keyed by /64, the nodes6 of
 * one hostile /64 fill one entry, not `max` of them, and cannot push out the queries we have out
 * to others; a reply from another address of an asked /64 passes, and then meets the table's rule
 * of one node per /64.
 */
export class Solicited {
  private readonly out = new Map<string, { count: number, until: number }>()
  constructor (private readonly now: () => number, private readonly max: number) {}

  sent (address: string): void {
    const host = subscriberKey(address)
    const now = this.now()
    const entry = this.out.get(host)
    const count = entry !== undefined && entry.until >= now ? entry.count + 1 : 1
    this.out.delete(host)
    this.out.set(host, { count, until: now + ANSWER_WINDOW })
    if (this.out.size > this.max) this.out.delete(this.out.keys().next().value!)
  }

  /** Whether a response from `host` answers a query of ours (and counts it answered). */
  answered (address: string): boolean {
    const host = subscriberKey(address)
    const entry = this.out.get(host)
    if (entry === undefined || entry.until < this.now()) return false
    if (--entry.count === 0) this.out.delete(host)
    return true
  }
}

/**
 * The UDP socket that bittorrent-dht (through k-rpc-socket's `socket` option) reads: a dgram
 * socket whose packets reach it only while their source is within its rate.
 */
export class GuardedSocket extends EventEmitter implements DhtSocket {
  constructor (private readonly inner: DhtSocket, accept: (buf: Buffer, from: dgram.RemoteInfo) => boolean, private readonly onSend: (buf: Buffer, host: string, port: number) => Buffer) {
    super()
    inner.on('message', (buf, from) => { if (accept(buf, from)) this.emit('message', buf, from) })
    for (const event of ['error', 'listening', 'close']) inner.on(event, (...args: unknown[]) => this.emit(event, ...args))
  }

  bind (port?: number, address?: string, onListening?: () => void): this {
    this.inner.bind(port, address, onListening)
    return this
  }

  address (): AddressInfo {
    return this.inner.address()
  }

  send (buf: Uint8Array, offset: number, length: number, port: number, host: string, cb?: (err: Error | null) => void): void {
    const out = this.onSend(Buffer.from(buf.buffer, buf.byteOffset + offset, length), host, port)
    this.inner.send(out, 0, out.length, port, host, cb)
  }

  close (cb?: () => void): void {
    this.inner.close(cb)
  }
}

/** The per-address rate limit on incoming packets and the admission rule of the routing table. */
export class DhtGuard {
  readonly stats: DhtGuardStats = { rateLimited: 0, unsolicited: 0, sameAddress: 0, badNodeId: 0 }
  private readonly policy: AdmissionPolicy
  private readonly limiter: RateLimiter
  private readonly solicited: Solicited
  /** The id the routing table holds at each address, an IPv6 one by its /64 (the last one, for exempt addresses). */
  private readonly byHost = new Map<string, Buffer>()

  constructor (opts: DhtGuardOptions = {}) {
    this.policy = { exempt: opts.exempt ?? isBep42Exempt, enforceNodeId: opts.enforceNodeId ?? true }
    const now = opts.now ?? Date.now
    const maxSources = opts.maxSources ?? 10_000
    this.limiter = new RateLimiter(opts.burst ?? 25, opts.perSecond ?? 5, now, maxSources)
    this.solicited = new Solicited(now, maxSources)
  }

  /**
   * `inner` behind the rate limit, passing responses only from addresses we asked; `onResponse`
   * sees each response that passed. Our responses tell their asker its address (BEP42's `ip`).
   */
  socket (inner: DhtSocket, onResponse: (buf: Buffer, from: dgram.RemoteInfo) => void = () => {}): GuardedSocket {
    return new GuardedSocket(inner, (buf, from) => {
      if (!this.policy.exempt(from.address) && !this.limiter.allow(subscriberKey(from.address))) {
        this.stats.rateLimited++
        return false
      }
      // Anything but a well-formed query must answer one of ours (a key sorted after `y`
      // makes a query look otherwise, and then it must too).
      if (buf.subarray(-QUERY_END.length).equals(QUERY_END)) return true
      if (!this.solicited.answered(from.address)) {
        this.stats.unsolicited++
        return false
      }
      onResponse(buf, from)
      return true
    }, (buf, host, port) => {
      if (!buf.subarray(-QUERY_END.length).equals(QUERY_END)) return withReportedAddress(buf, host, port)
      this.solicited.sent(host)
      return buf
    })
  }

  /**
   * Puts the admission rule in front of `table.add`, the one door into a k-bucket (k-rpc adds
   * the nodes that query or answer us through it, and so do bittorrent-dht's addNode and the
   * swap of a dead node); call it again for a new table.
   */
  watch (table: RoutingTable): void {
    this.byHost.clear()
    for (const n of table.toArray()) if (n.id !== undefined) this.byHost.set(subscriberKey(n.host), n.id)
    const forget = (n: DhtNodeInfo): void => {
      if (n.id !== undefined && this.byHost.get(subscriberKey(n.host))?.equals(n.id) === true) this.byHost.delete(subscriberKey(n.host))
    }
    table.on('added', (n) => { if (n.id !== undefined) this.byHost.set(subscriberKey(n.host), n.id) })
    table.on('removed', forget)
    table.on('updated', (old, n) => {
      forget(old)
      if (n.id !== undefined) this.byHost.set(subscriberKey(n.host), n.id)
    })
    const add = table.add.bind(table)
    table.add = (node) => {
      const refusal = node.id === undefined ? null : admission({ host: node.host, id: node.id }, this.byHost.get(subscriberKey(node.host)), this.policy)
      if (refusal === null) return add(node)
      this.stats[refusal]++
      return table
    }
  }
}
