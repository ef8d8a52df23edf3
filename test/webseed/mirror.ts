/**
 * A web seed for tests: a node http(s) server on 127.0.0.1 serving files from memory with Range
 * support, whose behaviour a test switches (good, corrupt, an HTTP status, silence, sending more
 * than asked, redirecting). It counts requests and the bytes it managed to write.
 */
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { createHash } from 'node:crypto'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import type { Metainfo } from '../../lib/metainfo/types.js'

export type MirrorMode =
  | { kind: 'good' }
  | { kind: 'corrupt' }
  | { kind: 'status', status: number }
  | { kind: 'silent' }
  /** Answers 206 with the right range, then one byte every `everyMs`. */
  | { kind: 'trickle', everyMs: number }
  /** Answers 206 with the right range but keeps sending past it, `extra` bytes in all. */
  | { kind: 'oversend', extra: number }
  | { kind: 'redirect', to: (path: string) => string, status?: number }
  /** Ignores Range: HTTP 200 with the whole file. */
  | { kind: 'norange' }
  /** Claims the range asked for, sends half of it and ends the response. */
  | { kind: 'short' }

export interface Mirror {
  url: string
  mode: MirrorMode
  requests: string[]
  /** Body bytes the server wrote to sockets (oversend: what it got out before we hung up). */
  written: number
  /** Responses the client closed before the server had sent all of it. */
  hungUp: number
  /** TCP connections the server accepted (fewer than requests: kept alive). */
  connections: number
}

export async function startMirror (t: TestContext, files: Map<string, Buffer>, mode: MirrorMode = { kind: 'good' }, tls?: { key: string, cert: string }): Promise<Mirror> {
  const mirror: Mirror = { url: '', mode, requests: [], written: 0, hungUp: 0, connections: 0 }
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const path = req.url ?? '/'
    mirror.requests.push(path)
    const m = mirror.mode
    if (m.kind === 'silent') return
    if (m.kind === 'status') return void res.writeHead(m.status).end()
    if (m.kind === 'redirect') return void res.writeHead(m.status ?? 302, { location: m.to(path) }).end()
    const data = files.get(decodeURIComponent(path))
    if (data === undefined) return void res.writeHead(404).end()
    const range = m.kind === 'norange' ? null : /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
    const start = range === null ? 0 : Number(range[1])
    const end = range === null ? data.length - 1 : Math.min(Number(range[2]), data.length - 1)
    let body = Buffer.from(data.subarray(start, end + 1))
    if (m.kind === 'corrupt') body = Buffer.from(body.map((b) => b ^ 0xff))
    res.writeHead(range === null ? 200 : 206, range === null ? {} : { 'content-range': `bytes ${start}-${end}/${data.length}` })
    if (m.kind === 'trickle') {
      let i = 0
      const timer = setInterval(() => { if (i < body.length && !res.destroyed) res.write(body.subarray(i, ++i)); else clearInterval(timer) }, m.everyMs)
      res.on('close', () => { clearInterval(timer); if (!res.writableFinished) mirror.hungUp++ })
      return
    }
    if (m.kind === 'short') return void res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy())
    if (m.kind !== 'oversend') {
      mirror.written += body.length
      return void res.end(body)
    }
    // Keeps writing until the client hangs up or `extra` bytes are out.
    let sent = 0
    const chunk = Buffer.alloc(64 * 1024, 7)
    body.copy(chunk)
    const pump = (): void => {
      while (sent < m.extra && !res.destroyed) {
        sent += chunk.length
        mirror.written += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      res.end()
    }
    res.on('close', () => {
      if (!res.writableFinished) mirror.hungUp++
      sent = m.extra
    })
    pump()
  }
  const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler)
  const sockets = new Set<import('node:net').Socket>()
  server.on(tls === undefined ? 'connection' : 'secureConnection', (s) => { mirror.connections++; sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })
  mirror.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}/`
  return mirror
}

/** A torrent of `files` (path → bytes; one entry: a single-file torrent named by it) with web seeds. */
export function torrentOf (name: string, files: Map<string, Buffer>, pieceLength: number, webSeeds: string[], multiFile = true): { meta: Metainfo, bytes: Buffer } {
  const layout = layoutFiles([...files].map(([path, data]) => ({ path, length: data.length })), pieceLength)
  const data = Buffer.concat(layout.map((f) => files.get(f.path)!))
  const hashes: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) hashes.push(createHash('sha1').update(data.subarray(at, at + pieceLength)).digest())
  const meta = createMetainfo({ name, files: layout, pieceLength, pieceHashes: Buffer.concat(hashes), multiFile, webSeeds })
  return { meta, bytes: encodeTorrentFile(meta) }
}

/** What a mirror stores for a torrent named `name`: the URL paths (before encoding) of its files. */
export function served (name: string, files: Map<string, Buffer>, multiFile = true): Map<string, Buffer> {
  return new Map([...files].map(([path, data]) => [multiFile ? `/${name}/${path}` : `/${name}`, data]))
}
