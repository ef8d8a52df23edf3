/**
 * BEP19 web seed URLs: which we accept from a .torrent's `url-list` or a magnet's `ws=` (untrusted:
 * tolerant, bounded) and which we write (strict).
 */
import { fail } from '../errors.js'

/** More mirrors than any real torrent names; each costs a fetcher and its buffers. */
export const MAX_WEB_SEEDS = 16
/** Longer than any real mirror URL, short enough that a hostile list stays small. */
export const MAX_URL_LENGTH = 2048

/**
 * The URL in canonical form when it is one we may fetch: http: or https:, no credentials (they
 * would be sent to every redirect target), within MAX_URL_LENGTH; null otherwise.
 */
export function webSeedUrl (text: string): string | null {
  if (text.length === 0 || text.length > MAX_URL_LENGTH) return null
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username !== '' || url.password !== '' || url.hostname === '') return null
  url.hash = ''
  const canonical = url.href
  return canonical.length > MAX_URL_LENGTH ? null : canonical
}

/**
 * The URLs we keep out of untrusted input (tolerant, as libtorrent): anything that is not an
 * acceptable URL is ignored, duplicates are dropped, and at most MAX_WEB_SEEDS are kept.
 */
export function acceptWebSeeds (texts: Iterable<string>): string[] {
  const kept = new Set<string>()
  for (const text of texts) {
    if (kept.size >= MAX_WEB_SEEDS) break
    const url = webSeedUrl(text)
    if (url !== null) kept.add(url)
  }
  return [...kept]
}

/** A .torrent's `url-list` value, a string or a list of strings (BEP19); anything else is ignored. */
export function readUrlList (value: unknown): string[] {
  const items = Array.isArray(value) ? value.slice(0, MAX_WEB_SEEDS * 4) : [value]
  const texts: string[] = []
  for (const item of items) {
    if (item instanceof Uint8Array && item.length <= MAX_URL_LENGTH) texts.push(Buffer.from(item).toString('utf8'))
    else if (typeof item === 'string') texts.push(item)
  }
  return acceptWebSeeds(texts)
}

/** The URLs a user gave to create a torrent with: strict in what we send, so a bad one fails. */
export function checkWebSeeds (texts: readonly string[], flag = 'webSeeds'): string[] {
  if (texts.length > MAX_WEB_SEEDS) fail('EINVAL', `${texts.length} web seeds given, more than the ${MAX_WEB_SEEDS} supported; name fewer in ${flag}`)
  const urls = texts.map((text) => webSeedUrl(text) ?? fail('EINVAL', `web seed ${JSON.stringify(text.slice(0, 80))} is not an http: or https: URL without credentials of at most ${MAX_URL_LENGTH} characters; fix it in ${flag}`))
  return [...new Set(urls)]
}
