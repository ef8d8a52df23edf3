import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { pipeline } from 'node:stream/promises'
import type { Archive } from '../archive/archive.js'
import type { Torrent } from '../client/torrent.js'
import { TrackerlessError, type ErrorCode } from '../errors.js'
import { ArchiveCache } from './archive-cache.js'
import { contentTypeOf } from './content-type.js'
import { escapeHtml, renderListing, type ListingEntry } from './listing.js'
import { parseRange } from './range.js'
import { archiveOrigin, classifyHost, isForeign } from './origin.js'
import { parseArchivePath, parseGatewayPath } from './request-path.js'
import { createBoundedServer } from './server.js'

const DEFAULT_CACHE_SIZE = 512 * 1024 * 1024

export interface GatewayOptions {
  /** A started client; the gateway opens archives with it and leaves it running on close(). */
  client: Torrent
  /** ms to find an archive's peers and metadata before answering 504. Default 30000. */
  timeout?: number
  /** Peers, "host:port", to ask for every archive (as well as whatever discovery finds). */
  peers?: string[]
  /** Idle archives kept open between requests. Default 16. */
  maxArchives?: number
  /** Bytes of idle archives (their whole length) kept open between requests; the least recently used close above it, and with them their storage. Default 512 MiB. */
  cacheSize?: number
  /** Host names, besides localhost and the bound address, that the gateway answers for (and `<archive>.btih.<name>`). Default none. */
  allowHosts?: string[]
  /** Connections served at once; more are dropped as they come. Default 256. */
  maxConnections?: number
  /** ms for a client to send a request's headers before it gets 408 and is closed. Default 10000. */
  headersTimeout?: number
  /** ms a connection may stay silent (no bytes either way) before it is closed. Default 60000. */
  idleTimeout?: number
}

export interface GatewayAddress {
  host: string
  port: number
  /** http://host:port/ */
  url: string
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  ETIMEDOUT: 504,
  ENOENT: 404,
  ENOTDIR: 404,
  EINVALIDURL: 400,
  EBADTORRENT: 502,
  EBADSIG: 502,
  // A client without the DHT cannot resolve /btpk/ links.
  ENOTSTARTED: 501,
  ECLOSED: 503,
  EABORTED: 503
}

/**
 * The HTTP gateway of SPEC §6. Each archive is served from its own origin,
 * `http://<infohash>.btih.localhost:PORT/<path>` and `http://<base32 public key>.btpk.localhost:PORT/<path>`
 * (the newest version a mutable link points at), so a page of one archive cannot read another;
 * `GET /btih/<infohash>/<path>` and `/btpk/<hex public key>/<path>` redirect there. Files come with
 * ranges, ETags (infohash and path, so a new version gets new ones), listings and index.html.
 * Only Host names of its own are answered (DNS rebinding), and a page of another site cannot make
 * it look up an archive it does not already have open.
 */
export class Gateway {
  readonly server: http.Server
  private readonly cache: ArchiveCache
  private readonly allowHosts: string[]

  constructor (opts: GatewayOptions) {
    this.cache = new ArchiveCache({
      client: opts.client,
      timeout: opts.timeout ?? 30_000,
      peers: opts.peers ?? [],
      max: opts.maxArchives ?? 16,
      maxBytes: opts.cacheSize ?? DEFAULT_CACHE_SIZE
    })
    this.allowHosts = (opts.allowHosts ?? []).map((h) => h.toLowerCase())
    this.server = createBoundedServer({
      maxConnections: opts.maxConnections ?? 256,
      headersTimeout: opts.headersTimeout ?? 10_000,
      idleTimeout: opts.idleTimeout ?? 60_000
    }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => fail(res, err))
    })
  }

  /** Starts listening; binds 127.0.0.1 unless told otherwise. Port 0 picks a free port. */
  listen (port = 8080, host = '127.0.0.1'): Promise<GatewayAddress> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve(this.address()!)
      })
    })
  }

  /** Where it listens, or null before listen(). */
  address (): GatewayAddress | null {
    const addr = this.server.address() as AddressInfo | null
    if (addr === null) return null
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
    return { host: addr.address, port: addr.port, url: `http://${host}:${addr.port}/` }
  }

  /** Stops listening, drops open connections and closes the archives it opened. */
  async close (): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closed
    await this.cache.close()
  }

  private async handle (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const policy = { bindAddress: this.address()?.host ?? '127.0.0.1', allowed: this.allowHosts }
    const host = classifyHost(req.headers.host, policy)
    if (host.kind === 'refused') return sendText(res, host.status, host.reason)
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return sendText(res, 405, 'only GET and HEAD are served')
    }
    if (host.kind === 'gateway') {
      const target = parseGatewayPath(req.url ?? '/')
      if (!target.ok) return sendText(res, target.status, target.reason)
      if (target.kind === 'home') return sendHtml(res, 200, HOME_PAGE)
      const path = target.segments.map(encodeURIComponent).join('/')
      const origin = archiveOrigin(target.kind, target.key, host.base, this.address()!.port)
      return redirect(res, `${origin}/${path}${target.trailingSlash && path !== '' ? '/' : ''}`)
    }
    const target = parseArchivePath(req.url ?? '/')
    if (!target.ok) return sendText(res, target.status, target.reason)
    const key = `${host.type}:${host.key}`
    if (!this.cache.has(key) && isForeign(req.headers, policy)) {
      return sendText(res, 403, 'a page of another site cannot open an archive through this gateway; open its address yourself')
    }
    const url = host.type === 'btih' ? host.key : `magnet:?xs=urn:btpk:${host.key}`
    const handle = await this.cache.acquire(key, url)
    try {
      // A btih archive never changes; a btpk one moves to new versions, so caches must ask again.
      const cacheControl = host.type === 'btih' ? 'public, max-age=31536000, immutable' : 'no-cache'
      const canonical = `/${target.segments.map(encodeURIComponent).join('/')}`
      await serveEntry(req, res, handle.archive, target.segments, target.trailingSlash, canonical, cacheControl)
    } finally {
      handle.release()
    }
  }
}

/** A Gateway over `opts.client`; call listen() to serve. */
export function createGateway (opts: GatewayOptions): Gateway {
  return new Gateway(opts)
}

async function serveEntry (
  req: http.IncomingMessage, res: http.ServerResponse, archive: Archive, segments: string[], trailingSlash: boolean, canonical: string, cacheControl: string
): Promise<void> {
  res.setHeader('Cache-Control', cacheControl)
  const path = '/' + segments.join('/')
  const stat = await archive.stat(path)
  if (stat.isFile()) {
    if (trailingSlash) return sendText(res, 404, 'not a folder')
    return serveFile(req, res, archive, path, stat.size)
  }
  const dirUrl = segments.length === 0 ? '/' : `${canonical}/`
  if (!trailingSlash) return redirect(res, dirUrl)
  const index = path === '/' ? '/index.html' : `${path}/index.html`
  if (await archive.exists(index)) {
    const indexStat = await archive.stat(index)
    if (indexStat.isFile()) return serveFile(req, res, archive, index, indexStat.size)
  }
  const dirents = await archive.readdir(path, { withFileTypes: true })
  const entries: ListingEntry[] = []
  for (const d of dirents) {
    if (typeof d === 'string') continue
    const child = path === '/' ? `/${d.name}` : `${path}/${d.name}`
    entries.push({ name: d.name, directory: d.isDirectory(), size: d.isDirectory() ? 0 : (await archive.stat(child)).size })
  }
  const title = `${archive.name}${path === '/' ? '/' : path + '/'}`
  res.setHeader('ETag', etagOf(archive, path + '/'))
  if (notModified(req, res)) return
  sendHtml(res, 200, renderListing(title, entries, segments.length > 0))
}

async function serveFile (req: http.IncomingMessage, res: http.ServerResponse, archive: Archive, path: string, size: number): Promise<void> {
  const etag = etagOf(archive, path)
  res.setHeader('ETag', etag)
  res.setHeader('Accept-Ranges', 'bytes')
  res.setHeader('Content-Type', contentTypeOf(path))
  res.setHeader('X-Content-Type-Options', 'nosniff')
  if (notModified(req, res)) return
  // If-Range with another validator asks for the whole body (RFC 9110 §13.1.5).
  const ifRange = req.headers['if-range']
  const range = parseRange(ifRange === undefined || ifRange === etag ? req.headers.range : undefined, size)
  if (range.kind === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${size}`)
    return sendText(res, 416, `the range is outside the file's ${size} bytes`)
  }
  const start = range.kind === 'part' ? range.start : 0
  const end = range.kind === 'part' ? range.end : size - 1
  if (range.kind === 'part') {
    res.statusCode = 206
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`)
  }
  res.setHeader('Content-Length', end - start + 1)
  if (req.method === 'HEAD' || size === 0) {
    res.end()
    return
  }
  try {
    await pipeline(archive.createReadStream(path, { start, end }), res)
  } catch (err) {
    // A browser that seeks drops the connection mid-body; that is not an error of ours.
    if (!res.destroyed) throw err
  }
}

function etagOf (archive: Archive, path: string): string {
  return `"${archive.infoHash}-${createHash('sha1').update(path).digest('hex').slice(0, 16)}"`
}

function notModified (req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const header = req.headers['if-none-match']
  if (header === undefined) return false
  const etag = res.getHeader('ETag')
  const tags = header.split(',').map((t) => t.trim().replace(/^W\//, ''))
  if (!tags.includes('*') && !tags.includes(String(etag))) return false
  res.statusCode = 304
  res.end()
  return true
}

function redirect (res: http.ServerResponse, location: string): void {
  res.statusCode = 301
  res.setHeader('Location', location)
  sendText(res, 301, `moved to ${location}`)
}

function sendText (res: http.ServerResponse, status: number, text: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text) + 1)
  res.end(`${text}\n`)
}

/** node:http leaves the body out of answers to HEAD by itself. */
function sendHtml (res: http.ServerResponse, status: number, html: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(html))
  res.end(html)
}

function fail (res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = err instanceof TrackerlessError ? STATUS_OF[err.code] ?? 500 : 500
  // The client's words ('raise { timeout }') mean nothing to a browser user: name the gateway's own setting.
  const message = (err instanceof Error ? err.message : String(err)).replace(/, or raise \{ timeout \}$/, ', or try again later (or start the gateway with a longer timeout: trackerless serve --timeout MS)')
  sendText(res, status, status === 500 ? `internal error: ${message}` : message)
}

const HOME_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>trackerless gateway</title></head><body>
<h1>trackerless gateway</h1>
<p>Open an archive at <code>${escapeHtml('/btih/<infohash>/<path>')}</code> or <code>${escapeHtml('/btpk/<public key>/<path>')}</code>;
each is served from its own origin, <code>${escapeHtml('http://<infohash>.btih.localhost:<port>/')}</code>.</p>
</body></html>
`
