import { parseInfoHash } from '../metainfo/magnet.js'

/** Longer request targets are refused before any work: no archive path needs more. */
export const MAX_REQUEST_PATH = 8192

/** What a gateway request names, or why it cannot name anything. Untrusted input: every byte of
 *  `segments` has been percent-decoded and checked, so joining them with '/' stays inside the archive. */
export type GatewayPath =
  | { ok: true, kind: 'home' }
  | { ok: true, kind: 'btih' | 'btpk', key: string, segments: string[], trailingSlash: boolean }
  | { ok: false, status: 400 | 404, reason: string }

/** A path inside an archive, every segment decoded and checked. */
export interface ArchivePath { ok: true, segments: string[], trailingSlash: boolean }
interface Refused { ok: false, status: 400, reason: string }

const PUBLIC_KEY = /^[0-9a-f]{64}$/i

/**
 * Parses the target of `GET /btih/<infohash>/<path>` or `/btpk/<key>/<path>`. The query string
 * is ignored. A segment that decodes to '.', '..', or holds '/', '\' or NUL is refused (400)
 * rather than normalised, so no spelling of a path can climb out of its archive.
 */
export function parseGatewayPath (target: string): GatewayPath {
  const pathname = pathnameOf(target)
  if (typeof pathname !== 'string') return pathname
  if (pathname === '/') return { ok: true, kind: 'home' }
  const raw = pathname.slice(1).split('/')
  const kind = raw[0]
  if (kind !== 'btih' && kind !== 'btpk') return { ok: false, status: 404, reason: 'paths start with /btih/<infohash>/ or /btpk/<public key>/' }
  const key = normaliseKey(kind, raw[1] ?? '')
  if (key === null) {
    return bad(kind === 'btih' ? 'expected 40 hex digits or 32 base32 characters after /btih/' : 'expected a 64-hex-digit public key after /btpk/')
  }
  const parsed = parseSegments(raw.slice(2))
  return parsed.ok ? { ...parsed, kind, key } : parsed
}

/** The path of a request to an archive's own origin (`http://<infohash>.btih.localhost/<path>`), checked as above. */
export function parseArchivePath (target: string): ArchivePath | Refused {
  const pathname = pathnameOf(target)
  return typeof pathname === 'string' ? parseSegments(pathname.slice(1).split('/')) : pathname
}

function pathnameOf (target: string): string | Refused {
  if (target.length > MAX_REQUEST_PATH) return bad(`request path longer than ${MAX_REQUEST_PATH} characters`)
  const cut = target.search(/[?#]/)
  const pathname = cut === -1 ? target : target.slice(0, cut)
  return pathname.startsWith('/') ? pathname : bad('request path must start with "/"')
}

function parseSegments (rest: string[]): ArchivePath | Refused {
  const segments: string[] = []
  for (const piece of rest) {
    if (piece === '') continue
    const decoded = decodeSegment(piece)
    if (decoded === null) return bad('malformed percent-encoding in the path')
    if (decoded === '.' || decoded === '..') return bad('"." and ".." are not allowed in paths')
    if (/[/\\\0]/.test(decoded) || piece.includes('\\')) return bad('"/", "\\" and NUL are not allowed inside a path segment')
    segments.push(decoded)
  }
  return { ok: true, segments, trailingSlash: rest.length > 0 && rest[rest.length - 1] === '' }
}

function normaliseKey (kind: 'btih' | 'btpk', text: string): string | null {
  if (kind === 'btpk') return PUBLIC_KEY.test(text) ? text.toLowerCase() : null
  try {
    return parseInfoHash(text).toString('hex')
  } catch {
    return null
  }
}

function decodeSegment (piece: string): string | null {
  try {
    return decodeURIComponent(piece)
  } catch {
    return null
  }
}

function bad (reason: string): Refused {
  return { ok: false, status: 400, reason }
}
