import net from 'node:net'
import os from 'node:os'

/**
 * "host:port", with brackets for IPv6: the form peers are dialled by. Only an IPv6 address holds
 * a colon; net.isIPv6's pattern showed up in profiles of every accepted connection.
 */
export function formatAddress (host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

const REFRESH = 30_000
let local: Set<string> | null = null
let localAt = 0

/**
 * The addresses of this host's interfaces (and the unspecified ones), refreshed every 30 s:
 * a peer at one of them on our own listen port is us.
 */
export function isLocalAddress (host: string): boolean {
  const now = Date.now()
  if (local === null || now - localAt > REFRESH) {
    local = new Set(['0.0.0.0', '::', 'localhost'])
    for (const list of Object.values(os.networkInterfaces())) {
      for (const info of list ?? []) local.add(info.address)
    }
    localAt = now
  }
  return local.has(host) || isLoopback(host)
}

/**
 * Whether a peer that another peer or a DHT node told us of can be dialled at all: not the
 * unspecified address (which connects to this host), multicast, broadcast or reserved space,
 * and not port 0. A hostile source sends these to waste our dials or aim them at this host.
 */
export function isDialablePeer (host: string, port: number): boolean {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false
  const v4 = unmapped(host)
  if (net.isIPv4(v4)) {
    const first = Number(v4.split('.')[0])
    // 0/8 "this network", 224/4 multicast, 240/4 reserved and broadcast.
    return first !== 0 && first < 224
  }
  // ff00::/8 multicast: a full first group ffxx (a shorter one, as in ff::1, is 00ff).
  return net.isIPv6(host) && host !== '::' && !/^ff[0-9a-f]{2}:/i.test(host)
}

/** Loopback: 127/8 and ::1, also as IPv4-mapped IPv6. */
export function isLoopback (host: string): boolean {
  return unmapped(host).startsWith('127.') || host === '::1'
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (as dual-stack sockets report IPv4 peers);
 *  any other host unchanged. */
export function unmapped (host: string): string {
  return mappedIPv4(host) ?? host
}

/** The IPv4 address inside an IPv4-mapped IPv6 one, in either notation (::ffff:1.2.3.4 or
 *  ::ffff:102:304, the canonical form sockets and the URL parser print); null for any other. */
function mappedIPv4 (host: string): string | null {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(host)
  if (m === null) return null
  if (m[1] !== undefined) return net.isIPv4(m[1]) ? m[1] : null
  const hi = parseInt(m[2]!, 16)
  const lo = parseInt(m[3]!, 16)
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
}
