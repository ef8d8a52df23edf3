/**
 * One HTTP Range request of a web seed, into a caller's buffer: never more than asked is kept
 * (the response is cut off at the requested length), redirects are followed a bounded number of
 * times and only to http: or https:, and the wait for headers, every pause in the body and the
 * whole body (at `minRate`) are timed out.
 */
import http from 'node:http'
import https from 'node:https'
import { TrackerlessError } from '../errors.js'
import { webSeedUrl } from '../metainfo/url-list.js'

export interface RangeLimits {
  /** Milliseconds from sending the request to its response headers (connecting included). */
  headersTimeout: number
  /** Milliseconds the body may pause before the request fails. */
  idleTimeout: number
  /** Bytes per second below which a body is given up: a mirror trickling a byte now and then
   *  would otherwise hold its piece (which peers are not asked for) for ever. */
  minRate: number
  maxRedirects: number
  /** For https: extra trusted certificates (tests with a self-signed server). */
  ca?: string | Buffer
}

export const DEFAULT_RANGE_LIMITS: RangeLimits = { headersTimeout: 15_000, idleTimeout: 20_000, minRate: 16 * 1024, maxRedirects: 5 }

/** Why a web seed request failed: what the user reads in `webSeeds` of the stats. */
export class WebSeedError extends TrackerlessError {
  constructor (message: string) {
    super('EPROTO', message)
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])

/** Keep-alive agents a torrent's mirrors share (one pair per torrent, destroyed with it). */
export interface RangeAgents { http: http.Agent, https: https.Agent }

/** Agents that keep up to `sockets` connections per mirror host open between requests. */
export function rangeAgents (sockets: number, idleMs: number): RangeAgents {
  const options = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets, timeout: idleMs }
  return { http: new http.Agent(options), https: new https.Agent(options) }
}

/** Bytes [start, start + length) of `url` into `into` at `at`; resolves once all are there. A
 *  response that carries exactly the range leaves its connection to `agents` for the next one. */
export async function fetchRange (url: string, start: number, length: number, into: Buffer, at: number, limits: RangeLimits, signal?: AbortSignal, agents?: RangeAgents): Promise<void> {
  let current = url
  const seen = new Set<string>([current])
  for (let hops = 0; ; hops++) {
    const next = await once(current, start, length, into, at, limits, signal, agents)
    if (next === null) return
    if (hops >= limits.maxRedirects) throw new WebSeedError(`${url} redirected more than ${limits.maxRedirects} times`)
    if (seen.has(next)) throw new WebSeedError(`${url} redirects in a loop (back to ${next})`)
    seen.add(next)
    current = next
  }
}

/** One hop: null once the bytes are in, or the URL it redirects to. */
async function once (url: string, start: number, length: number, into: Buffer, at: number, limits: RangeLimits, signal?: AbortSignal, agents?: RangeAgents): Promise<string | null> {
  const target = new URL(url)
  const secure = target.protocol === 'https:'
  const get = secure ? https.get : http.get
  const headers = { range: `bytes=${start}-${start + length - 1}`, 'accept-encoding': 'identity' }
  return await new Promise<string | null>((resolve, reject) => {
    let settled = false
    let reusable = false
    const finish = (err: Error | null, redirect: string | null = null): void => {
      if (settled) return
      settled = true
      clearTimeout(headersTimer)
      clearTimeout(bodyTimer)
      signal?.removeEventListener('abort', onAbort)
      // Whatever is left of the body is not wanted: closing the socket stops it at the sender. A
      // response read to its end leaves nothing behind, so its connection can serve the next.
      if (err !== null || !reusable) req.destroy()
      if (err !== null) reject(err)
      else resolve(redirect)
    }
    let bodyTimer: NodeJS.Timeout | undefined
    const onAbort = (): void => finish(new TrackerlessError('EABORTED', `request to ${url} aborted`))
    const agent = agents === undefined ? false as const : secure ? agents.https : agents.http
    const options = { headers, agent, ...(limits.ca !== undefined ? { ca: limits.ca } : {}) }
    const req = get(target, options, (res) => {
      clearTimeout(headersTimer)
      const status = res.statusCode ?? 0
      if (REDIRECTS.has(status)) {
        const location = res.headers.location
        const next = location === undefined ? null : webSeedUrl(new URL(location, target).href)
        if (next === null) finish(new WebSeedError(`${url} redirected (HTTP ${status}) to ${JSON.stringify((location ?? '').slice(0, 80))}, not an http: or https: URL`))
        else finish(null, next)
        return
      }
      const problem = checkStatus(res, status, start, length)
      if (problem !== null) {
        finish(new WebSeedError(`${url}: ${problem}`))
        return
      }
      let got = 0
      // A body announced as exactly the range asked for is read to its end, so that its
      // connection is left clean for the next request; anything else is cut off at `length`.
      const exact = endsAtRange(res, start, length)
      const done = (): void => finish(got === length ? null : new WebSeedError(`${url} sent ${got} bytes of the ${length} asked for at offset ${start}`))
      const bodyMs = Math.max(limits.idleTimeout, Math.ceil(length * 1000 / limits.minRate))
      bodyTimer = setTimeout(() => got === length ? done() : finish(new WebSeedError(`${url} sent ${got} of ${length} bytes in ${bodyMs} ms, slower than ${limits.minRate} bytes/s`)), bodyMs)
      res.setTimeout(limits.idleTimeout, () => got === length ? done() : finish(new WebSeedError(`${url} sent nothing for ${limits.idleTimeout} ms`)))
      res.on('data', (chunk: Buffer) => {
        const take = Math.min(chunk.length, length - got)
        chunk.copy(into, at + got, 0, take)
        got += take
        if (got === length && (!exact || take < chunk.length)) done()
      })
      res.on('end', () => {
        reusable = got === length && res.complete
        done()
      })
      res.on('error', (err) => finish(new WebSeedError(`${url}: ${err.message}`)))
    })
    const headersTimer = setTimeout(() => finish(new WebSeedError(`${url} did not answer within ${limits.headersTimeout} ms`)), limits.headersTimeout)
    req.on('error', (err) => finish(new WebSeedError(`${url}: ${err.message}`)))
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort)
  })
}

/** The response says its body is exactly bytes [start, start + length). */
function endsAtRange (res: http.IncomingMessage, start: number, length: number): boolean {
  const contentLength = res.headers['content-length']
  if (contentLength !== undefined) return contentLength === String(length)
  const range = /^bytes (\d+)-(\d+)\//.exec(res.headers['content-range'] ?? '')
  return res.statusCode === 206 && range !== null && Number(range[1]) === start && Number(range[2]) === start + length - 1
}

/** Why a response cannot hold the range asked for, or null when it can. */
function checkStatus (res: http.IncomingMessage, status: number, start: number, length: number): string | null {
  const encoding = res.headers['content-encoding']
  if (encoding !== undefined && encoding !== 'identity') return `answered with a ${encoding} body, not the raw bytes`
  if (status === 200) {
    // A server that ignores Range sends the whole file: its first bytes are the range at 0 only.
    return start === 0 ? null : `ignores Range requests (HTTP 200 for bytes from ${start})`
  }
  if (status !== 206) return `HTTP ${status}`
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '')
  if (range === null) return 'HTTP 206 without a Content-Range'
  if (Number(range[1]) !== start || Number(range[2]) < start + length - 1) {
    return `sent bytes ${range[1]}-${range[2]} when asked for ${start}-${start + length - 1}`
  }
  return null
}
