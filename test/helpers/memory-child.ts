/**
 * Memory after a download, in its own process run with --expose-gc: fetches each magnet of argv[3..]
 * (comma-separated) from argv[2] (host:port) into memory storage, then prints one JSON line of
 * process.memoryUsage() after GC at each stage: before, downloaded, closed (every archive closed),
 * stopped (client stopped). With TL_CHILD_GATEWAY=1 each archive is read whole through a gateway
 * with maxArchives 1 instead of through lookup(), the way `trackerless serve` fetches them: the
 * i-th archive's file is /data-<i>.bin, so that no two archives share a file path.
 */
import http from 'node:http'
import { Torrent } from '../../index.js'
import { createGateway } from '../../lib/gateway/gateway.js'

const [peer, list] = process.argv.slice(2) as [string, string]
const magnets = list.split(',')
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')

async function usage (stage: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc!()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const m = process.memoryUsage()
  console.log(JSON.stringify({ stage, rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external }))
}

/** GET `path` with `host` as the Host header, following redirects (they may name another Host). */
function fetchAll (port: number, host: string, path: string, hops = 3): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      const location = res.headers.location
      if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location !== undefined && hops > 0) {
        res.resume()
        const next = new URL(location, `http://${host}`)
        fetchAll(port, next.host, next.pathname, hops - 1).then(resolve, reject)
        return
      }
      if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`))
      let n = 0
      res.on('data', (c: Buffer) => { n += c.length })
      res.on('end', () => resolve(n))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
await client.start()
await usage('before')
if (process.env.TL_CHILD_GATEWAY === '1') {
  const gateway = createGateway({ client, peers: [peer], timeout: 60_000, maxArchives: 1 })
  const { port } = await gateway.listen(0)
  for (const [i, magnet] of magnets.entries()) {
    const ih = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
    await fetchAll(port, `127.0.0.1:${port}`, `/btih/${ih}/data-${i}.bin`)
  }
  await usage('downloaded')
  await gateway.close()
  await usage('closed')
} else {
  const archives = []
  for (const magnet of magnets) {
    const archive = await client.lookup(magnet, { peers: [peer], download: 'all', timeout: 60_000 })
    if (archive.progress < 1) await new Promise<void>((resolve) => archive.once('done', () => resolve()))
    archives.push(archive)
  }
  await usage('downloaded')
  await Promise.all(archives.map((a) => a.close()))
  await usage('closed')
}
await client.stop()
await usage('stopped')
