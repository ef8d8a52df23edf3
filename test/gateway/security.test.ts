import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { Torrent, Archive } from '../../index.js'
import { createGateway, type Gateway, type GatewayOptions } from '../../lib/gateway/gateway.js'
import { once } from '../helpers/fixtures.js'
import { request } from '../helpers/http-request.js'

const LOCAL = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const UNKNOWN = '34'.repeat(20)

/** A gateway over a client seeded with one archive; `lookups` counts the lookups the gateway starts. */
async function setup (t: TestContext, opts: Partial<GatewayOptions> = {}): Promise<{ gateway: Gateway, port: number, ih: string, lookups: string[], seeder: Torrent }> {
  const seeder = new Torrent(LOCAL)
  const reader = new Torrent(LOCAL)
  await Promise.all([seeder.start(), reader.start()])
  const draft = new Archive()
  await draft.writeFile('/index.html', '<h1>home</h1>')
  await draft.writeFile('/docs/readme.md', '# readme')
  const magnet = await seeder.seed(draft)
  const ih = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  const lookups: string[] = []
  const lookup = reader.lookup.bind(reader)
  reader.lookup = async (url, o) => {
    lookups.push(String(url))
    return await lookup(url, o)
  }
  const gateway = createGateway({ client: reader, peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000, ...opts })
  const { port } = await gateway.listen(0)
  t.after(async () => {
    await gateway.close()
    await Promise.all([seeder.stop(), reader.stop()])
  })
  return { gateway, port, ih, lookups, seeder }
}

test('a Host the gateway does not own gets 403 naming the flag that allows it, and starts no lookup (DNS rebinding)', async (t) => {
  const { port, ih, lookups } = await setup(t)
  for (const host of ['evil.example', `evil.example:${port}`, `${ih}.btih.evil.example:${port}`, `localhost.evil.example:${port}`]) {
    for (const path of [`/btih/${ih}/`, `/btih/${UNKNOWN}/`, '/', '/index.html']) {
      const reply = await request(port, path, { host })
      assert.equal(reply.status, 403, `${host} ${path}`)
      assert.match(reply.body.toString(), /--allow-host/, `${host} ${path}`)
    }
  }
  assert.deepEqual(lookups, [])
  // The names of its own still work.
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) assert.equal((await request(port, '/', { host })).status, 200, host)
})

test('allowHosts adds names, and their archive subdomains', async (t) => {
  const { port, ih } = await setup(t, { allowHosts: ['Gateway.Lan'] })
  assert.equal((await request(port, '/', { host: `gateway.lan:${port}` })).status, 200)
  const moved = await request(port, `/btih/${ih}/docs/readme.md`, { host: `gateway.lan:${port}` })
  assert.equal(moved.headers.location, `http://${ih}.btih.gateway.lan:${port}/docs/readme.md`)
  assert.equal((await request(port, moved.headers.location!)).body.toString(), '# readme')
})

test('a cross-site request cannot make the gateway look up an archive', async (t) => {
  const { port, ih, lookups } = await setup(t)
  const origin = `http://${UNKNOWN}.btih.localhost:${port}`
  const foreign = [
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
    { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-user': '?1' },
    { origin: 'http://evil.example' },
    { origin: 'null' },
    { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors', origin: `http://${ih}.btih.localhost:${port}` }
  ]
  for (const headers of foreign) {
    const path = await request(port, `/btih/${UNKNOWN}/`, headers)
    assert.notEqual(path.status, 200, JSON.stringify(headers))
    const sub = await request(port, `${origin}/`, headers)
    assert.equal(sub.status, 403, JSON.stringify(headers))
    assert.match(sub.body.toString(), /another site/)
  }
  assert.deepEqual(lookups, [], 'no lookup started')

  // Once the user opened an archive, another site's page may load it, but never read it through CORS.
  const mine = `http://${ih}.btih.localhost:${port}`
  assert.equal((await request(port, `${mine}/docs/readme.md`, { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' })).status, 200)
  const embedded = await request(port, `${mine}/docs/readme.md`, { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' })
  assert.equal(embedded.status, 200)
  assert.equal(embedded.headers['access-control-allow-origin'], undefined)
  assert.equal(lookups.length, 1)
})

test('a path URL redirects to the archive\'s own origin, which serves it', async (t) => {
  const { port, ih } = await setup(t)
  const moved = await request(port, `/btih/${ih.toUpperCase()}/docs/readme.md?x=1`)
  assert.equal(moved.status, 301)
  assert.equal(moved.headers.location, `http://${ih}.btih.localhost:${port}/docs/readme.md`)
  const file = await request(port, moved.headers.location!)
  assert.equal(file.status, 200)
  assert.equal(file.body.toString(), '# readme')
  assert.equal((await request(port, `/btih/${ih}`, { host: `localhost:${port}` })).headers.location, `http://${ih}.btih.localhost:${port}/`)
  const key = 'cd'.repeat(32)
  const btpk = await request(port, `/btpk/${key}/a/b/`)
  assert.equal(btpk.status, 301)
  const label = /^http:\/\/([a-z2-7]{52})\.btpk\.localhost:\d+\/a\/b\/$/.exec(btpk.headers.location ?? '')
  assert.ok(label !== null, `btpk origin ${btpk.headers.location}`)
  for (const bad of [`zz.btih.localhost:${port}`, `${ih}x.btih.localhost:${port}`, `${key}.btpk.localhost:${port}`]) {
    const reply = await request(port, '/', { host: bad })
    assert.equal(reply.status, 400, bad)
    assert.match(reply.body.toString(), /not an archive name/, bad)
  }
})

test('idle archives above cacheSize bytes are closed, least recently used first', async (t) => {
  const { port, ih, lookups, seeder } = await setup(t, { cacheSize: 900 })
  const other = new Archive()
  await other.writeFile('/big.bin', Buffer.alloc(900, 7))
  const ih2 = /btih:([0-9a-f]{40})/.exec(await seeder.seed(other))![1]!
  const get = async (key: string, path: string): Promise<number> => (await request(port, `http://${key}.btih.localhost:${port}${path}`)).status
  assert.equal(await get(ih, '/index.html'), 200)
  assert.equal(await get(ih, '/docs/readme.md'), 200)
  assert.equal(lookups.length, 1, 'a small archive stays open between requests')
  assert.equal(await get(ih2, '/big.bin'), 200)
  // 900 + 21 bytes are over 900: the first archive, idle longest, was closed, so it is looked up again.
  assert.equal(await get(ih, '/index.html'), 200)
  assert.equal(lookups.length, 3)
})

test('connections above the cap are dropped as they come, and the rest still served', async (t) => {
  const cap = 4
  const extra = 3
  const { gateway, port } = await setup(t, { maxConnections: cap })
  const drops: unknown[] = []
  gateway.server.on('drop', (d) => drops.push(d))
  const sockets: net.Socket[] = []
  t.after(() => { for (const s of sockets) s.destroy() })
  const closed = new Set<net.Socket>()
  for (let i = 0; i < cap; i++) {
    const s = net.connect(port, '127.0.0.1')
    sockets.push(s)
    s.on('close', () => closed.add(s))
    await once(s, 'connect', 5000)
  }
  const extras: Array<Promise<unknown>> = []
  for (let i = 0; i < extra; i++) {
    const s = net.connect(port, '127.0.0.1')
    s.on('error', () => undefined)
    sockets.push(s)
    extras.push(once(s, 'close', 5000))
  }
  await Promise.all(extras)
  assert.equal(drops.length, extra, 'each extra connection was dropped for the cap')
  assert.equal(closed.size, 0, 'the connections under the cap stay open')
  const first = sockets[0]!
  first.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)
  const answer = await readAll(first)
  assert.match(answer, /^HTTP\/1\.1 200 /)
})

test('a client that sends its headers too slowly gets 408 and is closed', async (t) => {
  const { port } = await setup(t, { headersTimeout: 200 })
  const s = net.connect(port, '127.0.0.1')
  t.after(() => s.destroy())
  await once(s, 'connect', 5000)
  s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`)
  const answer = await readAll(s)
  assert.match(answer, /^HTTP\/1\.1 408 /)
})

test('a connection that stays silent is closed after the idle timeout', async (t) => {
  const { port } = await setup(t, { idleTimeout: 200, headersTimeout: 60_000 })
  const s = net.connect(port, '127.0.0.1')
  t.after(() => s.destroy())
  await once(s, 'connect', 5000)
  assert.equal(await readAll(s), '')
})

/** Everything the socket receives until the server closes it (bounded: 10 s). */
async function readAll (s: net.Socket): Promise<string> {
  let text = ''
  s.setEncoding('utf8').on('data', (c: string) => { text += c })
  await once(s, 'close', 10_000)
  return text
}
