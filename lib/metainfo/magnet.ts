import { isIPv4, isIPv6 } from 'node:net'
import { fail } from '../errors.js'
import { asInfoHash, type InfoHash } from '../util/ids.js'
import type { MagnetLink, Metainfo } from './types.js'
import { MAX_FILES } from './torrent.js'
import { acceptWebSeeds, checkWebSeeds } from './url-list.js'

/** Far longer than any real link (a thousand x.pe peers fit), short enough to parse at once. */
export const MAX_MAGNET_LENGTH = 256 * 1024
export const MAX_SALT_BYTES = 64

const EXAMPLE = 'a valid link looks like magnet:?xt=urn:btih:<40 hex digits>&dn=<name>, or magnet:?xs=urn:btpk:<64 hex digits> for a mutable archive'
const HEX40 = /^[0-9a-fA-F]{40}$/
const BASE32_32 = /^[A-Za-z2-7]{32}$/
const HEX64 = /^[0-9a-fA-F]{64}$/
/** BEP52 btmh: a multihash of SHA-256 (code 0x12, length 0x20) in hex. */
const BTMH = /^1220([0-9a-fA-F]{64})$/
const HEX = /^(?:[0-9a-fA-F]{2})*$/
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
const PORT = /^[0-9]{1,5}$/
const SELECT_ITEM = /^([0-9]{1,6})(?:-([0-9]{1,6}))?$/

function invalid (why: string): never {
  return fail('EINVALIDURL', `invalid magnet link: ${why}; ${EXAMPLE}`)
}

export function decodeBase32 (text: string): Buffer {
  const out = Buffer.alloc((text.length * 5) >> 3)
  let bits = 0
  let value = 0
  let at = 0
  for (const ch of text.toUpperCase()) {
    const c = ch.charCodeAt(0)
    value = (value << 5) | (c >= 65 ? c - 65 : c - 24) // 'A'..'Z' -> 0..25, '2'..'7' -> 26..31
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[at++] = (value >> bits) & 0xff
    }
  }
  return out
}

/** A bare infohash: 40 hex digits or 32 base32 characters (either case). */
export function parseInfoHash (text: string): InfoHash {
  if (HEX40.test(text)) return asInfoHash(Buffer.from(text, 'hex'))
  if (BASE32_32.test(text)) return asInfoHash(decodeBase32(text))
  return fail('EINVALIDURL', `${JSON.stringify(text.slice(0, 80))} is not an infohash: expected 40 hex digits or 32 base32 characters`)
}

export interface PeerAddress {
  /** Without brackets for IPv6. */
  host: string
  port: number
}

/** "host:port" or "[v6]:port", port 1-65535; the form of x.pe and of peers given by the user. */
export function parsePeerAddress (text: string): PeerAddress {
  const colon = text.lastIndexOf(':')
  const rawHost = colon === -1 ? '' : text.slice(0, colon)
  const rawPort = colon === -1 ? '' : text.slice(colon + 1)
  const port = PORT.test(rawPort) ? Number(rawPort) : 0
  const bracketed = rawHost.startsWith('[') && rawHost.endsWith(']')
  const host = bracketed ? rawHost.slice(1, -1) : rawHost
  const hostOk = bracketed ? isIPv6(host) : isIPv4(host) || HOSTNAME.test(host)
  if (!hostOk || port < 1 || port > 65535) {
    fail('EINVALIDURL', `peer address ${JSON.stringify(text.slice(0, 300))} is not valid: use host:port with a port from 1 to 65535, and [address]:port for IPv6`)
  }
  return { host, port }
}

function checkPeer (text: string): string {
  try {
    parsePeerAddress(text)
  } catch (err) {
    return invalid((err as Error).message)
  }
  return text
}

/**
 * Expands BEP53 "0,2,4-6" into selected indices. Tolerant as libtorrent: an item that is not an
 * index or a forward range, or that reaches past the MAX_FILES a torrent may hold, is skipped; and
 * at most MAX_FILES indices are expanded over all so= of a link (`budget`), so no link makes us
 * build an enormous list. Indices past the torrent's last file are dropped when it is opened.
 */
function parseSelect (value: string, selected: Set<number>, budget: { left: number }): void {
  for (const item of value.split(',')) {
    const match = SELECT_ITEM.exec(item)
    if (match === null) continue
    const first = Number(match[1])
    const last = match[2] === undefined ? first : Number(match[2])
    if (first > last || last >= MAX_FILES || last - first + 1 > budget.left) continue
    budget.left -= last - first + 1
    for (let i = first; i <= last; i++) selected.add(i)
  }
}

/** The parameters parseMagnet reads besides xt and xt.N. */
const READ_KEYS = new Set(['xs', 's', 'dn', 'x.pe', 'so', 'ws'])

function decodeValue (raw: string, key: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '))
  } catch {
    return invalid(`the value of ${key} has a broken %-escape`)
  }
}

function tryDecode (raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return '?'
  }
}

function setOnce<T extends Buffer> (current: T | undefined, next: T, what: string): T {
  if (current !== undefined && !current.equals(next)) invalid(`it names two different ${what}`)
  return next
}

/**
 * Reads a magnet link. Trackers (tr) and other unknown parameters are ignored; of several xt only
 * btih and btmh (BEP52) are read; several x.pe and so are combined.
 */
export function parseMagnet (uri: string): MagnetLink {
  if (uri.length > MAX_MAGNET_LENGTH) invalid(`it is ${uri.length} characters long, over the limit of ${MAX_MAGNET_LENGTH}`)
  if (!/^magnet:\?/i.test(uri)) invalid(`${JSON.stringify(uri.slice(0, 80))} does not start with "magnet:?"`)
  const link: MagnetLink = { peers: [] }
  const selected = new Set<number>()
  const budget = { left: MAX_FILES }
  let hasSelect = false
  const webSeeds: string[] = []
  for (const param of uri.slice(8).split('&')) {
    if (param === '') continue
    const eq = param.indexOf('=')
    const key = (eq === -1 ? param : param.slice(0, eq)).toLowerCase()
    const raw = eq === -1 ? '' : param.slice(eq + 1)
    const xt = key === 'xt' || /^xt\.[0-9]+$/.test(key)
    // A parameter we do not read is ignored whatever it holds, as libtorrent does (a broken escape too).
    if (!xt && !READ_KEYS.has(key)) continue
    // so= is a hint (libtorrent ignores one it cannot read): no value of it fails the link.
    const value = key === 'so' || key === 'ws' ? tryDecode(raw) : decodeValue(raw, key)
    if (xt) {
      if (value.slice(0, 9).toLowerCase() === 'urn:btmh:') {
        const match = BTMH.exec(value.slice(9))
        // Another hash function than SHA-256 is no torrent we know: ignored, as an unknown xt.
        if (match === null) {
          if (value.slice(9, 13) === '1220') invalid(`xt=${JSON.stringify(value.slice(0, 90))} does not end in 1220 and 64 hex digits`)
          continue
        }
        link.infoHashV2 = setOnce(link.infoHashV2, Buffer.from(match[1]!, 'hex'), 'v2 infohashes')
        continue
      }
      if (value.slice(0, 9).toLowerCase() !== 'urn:btih:') continue
      const hash = value.slice(9)
      if (!HEX40.test(hash) && !BASE32_32.test(hash)) invalid(`xt=${JSON.stringify(value.slice(0, 80))} does not end in 40 hex digits or 32 base32 characters`)
      link.infoHash = setOnce(link.infoHash, parseInfoHash(hash), 'infohashes')
    } else if (key === 'xs') {
      if (value.slice(0, 9).toLowerCase() !== 'urn:btpk:') continue
      const hex = value.slice(9)
      if (!HEX64.test(hex)) invalid('xs=urn:btpk: must be followed by a 64-hex-digit public key')
      link.publicKey = setOnce(link.publicKey, Buffer.from(hex, 'hex'), 'public keys')
    } else if (key === 's') {
      if (!HEX.test(value)) invalid('s= (the salt) must be hex digits, two per byte')
      if (value.length > MAX_SALT_BYTES * 2) invalid(`the salt is longer than ${MAX_SALT_BYTES} bytes`)
      if (value !== '') link.salt = setOnce(link.salt, Buffer.from(value, 'hex'), 'salts')
    } else if (key === 'dn') {
      link.name ??= value
    } else if (key === 'x.pe') {
      link.peers.push(checkPeer(value))
    } else if (key === 'so' && /^[0-9,-]*$/.test(value)) {
      // libtorrent ignores an so= with any other character; one with only bad items selects nothing.
      parseSelect(value, selected, budget)
      hasSelect = true
    } else if (key === 'ws') {
      // BEP19 mirrors are hints too: one we cannot use is left out (url-list.ts), the link stands.
      webSeeds.push(value)
    }
  }
  if (link.infoHash === undefined && link.publicKey === undefined && link.infoHashV2 === undefined) invalid('it has neither xt=urn:btih: nor xt=urn:btmh: nor xs=urn:btpk:')
  if (hasSelect) link.select = [...selected].sort((a, b) => a - b)
  const mirrors = acceptWebSeeds(webSeeds)
  if (mirrors.length > 0) link.webSeeds = mirrors
  return link
}

function formatSelect (indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const items: string[] = []
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i]!
    let last = first
    while (sorted[i + 1] === last + 1) last = sorted[++i]!
    i++
    items.push(first === last ? `${first}` : `${first}-${last}`)
  }
  return items.join(',')
}

function encodeName (name: string): string {
  try {
    return encodeURIComponent(name)
  } catch {
    return invalid('the name contains a character that is not valid Unicode')
  }
}

/** The canonical text of a link; parseMagnet gives the same link back. */
export function formatMagnet (link: MagnetLink): string {
  const params: string[] = []
  if (link.infoHash === undefined && link.publicKey === undefined && link.infoHashV2 === undefined) invalid('a link needs an infohash or a public key')
  if (link.infoHash !== undefined) {
    if (link.infoHash.length !== 20) invalid('an infohash is 20 bytes')
    params.push(`xt=urn:btih:${link.infoHash.toString('hex')}`)
  }
  if (link.infoHashV2 !== undefined) {
    if (link.infoHashV2.length !== 32) invalid('a v2 infohash is 32 bytes')
    params.push(`xt=urn:btmh:1220${link.infoHashV2.toString('hex')}`)
  }
  if (link.publicKey !== undefined) {
    if (link.publicKey.length !== 32) invalid('a public key is 32 bytes')
    params.push(`xs=urn:btpk:${link.publicKey.toString('hex')}`)
  }
  if (link.salt !== undefined && link.salt.length > 0) {
    if (link.salt.length > MAX_SALT_BYTES) invalid(`the salt is longer than ${MAX_SALT_BYTES} bytes`)
    params.push(`s=${link.salt.toString('hex')}`)
  }
  if (link.name !== undefined) params.push(`dn=${encodeName(link.name)}`)
  // Validated addresses hold only characters that are safe in a query, so they stay readable.
  for (const peer of link.peers) params.push(`x.pe=${checkPeer(peer)}`)
  if (link.select !== undefined) {
    for (const index of link.select) {
      if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_FILES) invalid(`file index ${index} is out of range`)
    }
    params.push(`so=${formatSelect(link.select)}`)
  }
  for (const url of checkWebSeeds(link.webSeeds ?? [])) params.push(`ws=${encodeURIComponent(url)}`)
  return `magnet:?${params.join('&')}`
}

/** The link of a torrent: btih for v1, btih and btmh for a hybrid, btmh alone for v2-only (whose
 *  truncated hash in a btih would be taken for a v1 infohash by v1 clients). */
export function torrentMagnet (meta: Pick<Metainfo, 'version' | 'infoHash' | 'infoHashV2' | 'name' | 'webSeeds'>): string {
  return formatMagnet({
    ...(meta.version !== 2 ? { infoHash: meta.infoHash } : {}),
    ...(meta.version !== 1 && meta.infoHashV2 !== undefined ? { infoHashV2: meta.infoHashV2 } : {}),
    name: meta.name,
    peers: [],
    ...(meta.webSeeds !== undefined ? { webSeeds: meta.webSeeds } : {})
  })
}

/** The 20-byte hash a link's torrent is known by on the wire and the DHT: its btih, or for a
 *  v2-only link its btmh truncated (BEP52). */
export function magnetInfoHash (link: MagnetLink): InfoHash | undefined {
  if (link.infoHash !== undefined) return link.infoHash
  return link.infoHashV2 === undefined ? undefined : asInfoHash(link.infoHashV2.subarray(0, 20))
}
