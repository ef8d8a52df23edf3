import type { IncomingHttpHeaders } from 'node:http'
import { decodeBase32 } from '../metainfo/magnet.js'

/**
 * Which origin a request is for. Each archive has its own origin, `<label>.btih.<base>` or
 * `<label>.btpk.<base>`, so that a page of one archive cannot read another (the way IPFS subdomain
 * gateways do it); `<base>` is `localhost` (browsers resolve `*.localhost` to loopback) or a name
 * the user allowed. Any other Host is refused: a page on a DNS-rebound name must not reach us.
 */
export type HostTarget =
  | { kind: 'gateway', base: string }
  | { kind: 'archive', type: 'btih' | 'btpk', key: string }
  | { kind: 'refused', reason: string, status: 400 | 403 }

/** A DNS label holds at most 63 characters: a 64-hex public key does not fit, its base32 form (52) does. */
const BTIH_LABEL = /^[0-9a-f]{40}$/
const BTPK_LABEL = /^[a-z2-7]{52}$/

export interface HostPolicy {
  /** The address the server is bound to (no brackets), answered as a bare Host too. */
  bindAddress: string
  /** Names the user allowed (`--allow-host`), lowercase, no port. */
  allowed: readonly string[]
}

/** Classifies a Host header under `policy`. The port in it is not checked: rebinding attacks change the name, not the port. */
export function classifyHost (header: string | undefined, policy: HostPolicy): HostTarget {
  const name = hostname(header ?? '')
  if (name === null) return { kind: 'refused', status: 400, reason: 'the request has no valid Host header' }
  const bases = ['localhost', ...policy.allowed]
  if (bases.includes(name) || isLoopbackOrBind(name, policy.bindAddress)) return { kind: 'gateway', base: name }
  for (const base of bases) {
    if (!name.endsWith(`.${base}`)) continue
    const labels = name.slice(0, -base.length - 1).split('.')
    if (labels.length !== 2) continue
    const [label, type] = labels as [string, string]
    if (type === 'btih' && BTIH_LABEL.test(label)) return { kind: 'archive', type, key: label }
    if (type === 'btpk' && BTPK_LABEL.test(label)) return { kind: 'archive', type, key: decodeBase32(label).toString('hex') }
    if (type === 'btih' || type === 'btpk') {
      return { kind: 'refused', status: 400, reason: `"${label}" is not an archive name: expected <40 hex digits>.btih.${base} or <52 base32 characters>.btpk.${base}` }
    }
  }
  return {
    kind: 'refused',
    status: 403,
    reason: `this gateway does not answer for the host "${name}"; allow it with --allow-host ${name} (createGateway({ allowHosts: ['${name}'] }))`
  }
}

/** The origin of one archive, as seen from a request that named the gateway by `base`. An IP address
 *  cannot have subdomains, so it becomes `localhost`: the browser then still reaches the loopback. */
export function archiveOrigin (type: 'btih' | 'btpk', key: string, base: string, port: number): string {
  const label = type === 'btih' ? key : encodeBase32(Buffer.from(key, 'hex'))
  const name = isIpLiteral(base) ? 'localhost' : base
  return `http://${label}.${type}.${name}:${port}`
}

/**
 * True when the request comes from a page of another site, or of an origin that is not this gateway
 * or one of its archives: such a request must not make the client look up (and announce itself as a
 * peer of) an archive. A navigation the user typed or a link they clicked passes; so do requests
 * from outside browsers (no Sec-Fetch-Site, no Origin).
 */
export function isForeign (headers: IncomingHttpHeaders, policy: HostPolicy): boolean {
  const site = headers['sec-fetch-site']
  if (site === 'cross-site') return true
  if (site === 'same-site' && !(headers['sec-fetch-mode'] === 'navigate' && headers['sec-fetch-user'] === '?1')) return true
  const origin = headers.origin
  if (origin === undefined) return false
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return true // "null" (a sandboxed frame, a file: page) or garbage
  }
  return url.protocol !== 'http:' || classifyHost(url.host, policy).kind === 'refused'
}

function hostname (header: string): string | null {
  if (header === '' || /[/@\\?#%\s]/.test(header)) return null
  try {
    return new URL(`http://${header}/`).hostname.replace(/^\[(.*)\]$/, '$1')
  } catch {
    return null
  }
}

function isLoopbackOrBind (name: string, bindAddress: string): boolean {
  return name === '127.0.0.1' || name === '::1' || name === bindAddress
}

function isIpLiteral (name: string): boolean {
  return /^[0-9.]+$/.test(name) || name.includes(':')
}

/** RFC 4648 base32, lowercase, no padding: the form a DNS label can carry. */
export function encodeBase32 (bytes: Uint8Array): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += alphabet[(value >> bits) & 31]
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31]
  return out
}
