import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Torrent, Archive } from '../../index.js'
import { createGateway } from '../../lib/gateway/gateway.js'
import { encodeBase32 } from '../../lib/gateway/origin.js'
import { request } from '../helpers/http-request.js'

const LOCAL = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }

async function setup (t: import('node:test').TestContext): Promise<{ port: number, ih: string, video: Buffer }> {
  const seeder = new Torrent(LOCAL)
  const reader = new Torrent(LOCAL)
  await Promise.all([seeder.start(), reader.start()])
  const video = randomBytes(300_000)
  const draft = new Archive()
  await draft.writeFile('/index.html', '<h1>home</h1>')
  await draft.writeFile('/media/clip.webm', video)
  // <, > and " cannot be in a name we seed (Windows forbids them); & and ' still need escaping.
  await draft.writeFile("/docs/&'odd' #1.txt", 'odd')
  await draft.writeFile('/docs/sub/readme.md', '# readme')
  await draft.writeFile('/empty.txt', '')
  const magnet = await seeder.seed(draft)
  const ih = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  const gateway = createGateway({ client: reader, peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  const { port, host } = await gateway.listen(0)
  assert.equal(host, '127.0.0.1')
  t.after(async () => {
    await gateway.close()
    await Promise.all([seeder.stop(), reader.stop()])
  })
  return { port, ih, video }
}

test('gateway serves files, folders, ranges and validators over HTTP', async (t) => {
  const { port, ih, video } = await setup(t)
  const base = `http://${ih}.btih.localhost:${port}`

  const bare = await request(port, `/btih/${ih}`)
  assert.equal(bare.status, 301)
  assert.equal(bare.headers.location, `${base}/`)

  const home = await request(port, `${base}/`)
  assert.equal(home.status, 200)
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8')
  assert.equal(home.body.toString(), '<h1>home</h1>')

  const dir = await request(port, `${base}/docs`)
  assert.equal(dir.status, 301)
  assert.equal(dir.headers.location, '/docs/')
  const listing = await request(port, `${base}/docs/`)
  assert.equal(listing.status, 200)
  const html = listing.body.toString()
  assert.ok(html.includes('&amp;&#39;odd&#39; #1.txt'), html)
  assert.ok(!html.includes('<b>&'), html)
  assert.ok(html.includes('href="sub/"'), html)
  const odd = await request(port, `${base}/docs/${encodeURIComponent("&'odd' #1.txt")}`)
  assert.equal(odd.body.toString(), 'odd')

  const whole = await request(port, `${base}/media/clip.webm`)
  assert.equal(whole.status, 200)
  assert.equal(whole.headers['content-type'], 'video/webm')
  assert.equal(whole.headers['accept-ranges'], 'bytes')
  assert.ok(whole.body.equals(video))
  const etag = whole.headers.etag!
  assert.match(etag, new RegExp(`^"${ih}-[0-9a-f]{16}"$`))
  assert.equal((await request(port, `${base}/media/clip.webm`, { 'if-none-match': etag })).status, 304)
  assert.notEqual((await request(port, `${base}/index.html`)).headers.etag, etag)

  const size = video.length
  for (const [header, start, end] of [['bytes=0-99', 0, 99], ['bytes=150000-170000', 150_000, 170_000], ['bytes=-1000', size - 1000, size - 1], ['bytes=299990-', 299_990, size - 1]] as const) {
    const part = await request(port, `${base}/media/clip.webm`, { range: header })
    assert.equal(part.status, 206, header)
    assert.equal(part.headers['content-range'], `bytes ${start}-${end}/${size}`)
    assert.equal(Number(part.headers['content-length']), end - start + 1)
    assert.ok(part.body.equals(video.subarray(start, end + 1)), header)
  }
  const beyond = await request(port, `${base}/media/clip.webm`, { range: `bytes=${size}-` })
  assert.equal(beyond.status, 416)
  assert.equal(beyond.headers['content-range'], `bytes */${size}`)
  assert.equal((await request(port, `${base}/empty.txt`, { range: 'bytes=0-' })).status, 416)
  assert.equal((await request(port, `${base}/empty.txt`)).body.length, 0)

  const head = await request(port, `${base}/media/clip.webm`, {}, 'HEAD')
  assert.equal(head.status, 200)
  assert.equal(Number(head.headers['content-length']), size)
  assert.equal(head.body.length, 0)

  assert.equal((await request(port, `${base}/missing.txt`)).status, 404)
  assert.equal((await request(port, `${base}/index.html/`)).status, 404)
  assert.equal((await request(port, `${base}/`, {}, 'POST')).status, 405)
  assert.equal((await request(port, `http://${encodeBase32(Buffer.alloc(32, 0xab))}.btpk.localhost:${port}/`)).status, 501)
})

test('no request reaches outside its archive', async (t) => {
  const { port, ih } = await setup(t)
  const base = `http://${ih}.btih.localhost:${port}`
  for (const path of [
    `/btih/${ih}/../../../../etc/passwd`, `/btih/${ih}/docs/../../index.html`, `/btih/${ih}/%2e%2e/%2e%2e/etc/passwd`,
    `/btih/${ih}/docs/..%2f..%2fetc%2fpasswd`, `/btih/${ih}/docs%5c..%5c..%5cetc`, `/btih/${ih}/docs\\..\\..\\etc`,
    `/btih/${ih}/index.html%00.txt`, '/../../etc/passwd', '/etc/passwd',
    `${base}/../../../../etc/passwd`, `${base}/docs/../../index.html`, `${base}/%2e%2e/%2e%2e/etc/passwd`,
    `${base}/docs/..%2f..%2fetc%2fpasswd`, `${base}/docs%5c..%5c..%5cetc`, `${base}/docs\\..\\..\\etc`, `${base}/index.html%00.txt`
  ]) {
    const reply = await request(port, path)
    assert.ok(reply.status === 400 || reply.status === 404, `${path}: ${reply.status}`)
    assert.ok(!reply.body.toString().includes('root:'), path)
  }
})

test('an archive nobody seeds answers 504 once the lookup times out', async (t) => {
  const client = new Torrent(LOCAL)
  await client.start()
  const gateway = createGateway({ client, timeout: 200 })
  const { port } = await gateway.listen(0)
  t.after(async () => {
    await gateway.close()
    await client.stop()
  })
  const reply = await request(port, `http://${'12'.repeat(20)}.btih.localhost:${port}/index.html`)
  assert.equal(reply.status, 504)
  assert.match(reply.body.toString(), /metadata/)
  // It names the gateway's own setting, not the client option (issue 19).
  assert.match(reply.body.toString(), /serve --timeout/)
  assert.doesNotMatch(reply.body.toString(), /\{ timeout \}/)
})
