import type dgram from 'node:dgram'
import net from 'node:net'
import { isBep42Exempt } from './bep42.js'
import { udpSocket } from '../transport/udp-port.js'

/** BEP32: the IPv4 and the IPv6 DHT are two networks, each node in one of them. */
export type DhtFamily = 4 | 6

/** The UDP socket of a DHT node: an IPv6 one takes no IPv4 traffic (ipv6Only), the IPv4 node's. */
export function familySocket (family: DhtFamily): dgram.Socket {
  return family === 6 ? udpSocket('udp6', { ipv6Only: true }) : udpSocket('udp4')
}

/**
 * Where many honest nodes share one address, so that the guard's per-address limits do not
 * apply: BEP42's IPv4 ranges, and IPv6 loopback, unique local (fc00::/7) and link-local
 * (fe80::/10) addresses, the IPv6 ranges libtorrent also counts as local.
 */
export function isSharedAddress (host: string): boolean {
  if (!net.isIPv6(host)) return isBep42Exempt(host)
  const h = host.toLowerCase()
  return h === '::1' || /^f[cd][0-9a-f]{2}:/.test(h) || /^fe[89ab][0-9a-f]:/.test(h)
}

/**
 * Which DHT nodes a client runs for its `host` (unset or '::': every interface, both; an IPv4
 * address: IPv4 only; another IPv6 address: IPv6 only), the IPv6 one only if `ipv6` allows.
 */
export function familiesFor (host: string | undefined, ipv6: boolean): DhtFamily[] {
  if (host === undefined || host === '::') return ipv6 ? [4, 6] : [4]
  if (net.isIPv6(host)) return [6]
  return [4]
}

/**
 * What the guard's per-address limits count as one address: an IPv4 address, or an IPv6 /64,
 * which is one subscriber's (as an IPv4 address is one router's): a node that holds a /64 would
 * otherwise have 2^64 addresses to flood a routing table and the rate limit from.
 */
export function subscriberKey (host: string): string {
  if (!host.includes(':')) return host
  const [head = '', tail] = host.split('::')
  const groups = (text: string): string[] => text === '' ? [] : text.split(':').flatMap((g) => g.includes('.') ? ['0', '0'] : [g])
  const before = groups(head)
  const after = tail === undefined ? [] : groups(tail)
  const all = [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after]
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`
}
