import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Cli, run } from './child.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { tmpDir } from '../helpers/fixtures.js'
import { request } from '../helpers/http-request.js'

test('get <infohash> finds the seeder through a local DHT given with --bootstrap', { timeout: 90_000 }, async (t) => {
  const dir = await tmpDir(t, 'tl-cli-dht-')
  await fs.writeFile(path.join(dir, 'note.txt'), 'found through the DHT\n')
  const dht = await dhtNetwork(4)
  const local = ['--bootstrap', dht.bootstrap, '--no-lsd', '--bind', '127.0.0.1']
  const seeder = new Cli(['seed', 'note.txt', '--json', ...local], dir)
  try {
    const { infoHash } = JSON.parse(await seeder.line(/"event":"seeding"/)) as { infoHash: string }
    const out = path.join(dir, 'out')
    const got = await run(['get', infoHash, '-o', out, '--timeout', '60000', ...local], { ms: 70_000 })
    assert.equal(got.code, 0, got.stderr)
    assert.equal(await fs.readFile(path.join(out, 'note.txt'), 'utf8'), 'found through the DHT\n')
  } finally {
    const end = await seeder.stop('SIGINT')
    await dht.close()
    assert.equal(end.code, 0, end.stderr)
  }
})

test('keygen, then publish a magnet under the key: get and the gateway open the btpk link', { timeout: 90_000 }, async (t) => {
  const dir = await tmpDir(t, 'tl-cli-btpk-')
  await fs.mkdir(path.join(dir, 'site'))
  await fs.writeFile(path.join(dir, 'site', 'index.html'), '<p>v1</p>\n')
  const keyFile = path.join(dir, 'site.key')
  const keygen = await run(['keygen', '-o', keyFile])
  assert.equal(keygen.code, 0, keygen.stderr)
  const publicKey = keygen.stdout.toString().trim()
  assert.match(publicKey, /^[0-9a-f]{64}$/)
  assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600)
  assert.equal(JSON.parse(await fs.readFile(keyFile, 'utf8')).publicKey, publicKey)
  const again = await run(['keygen', '-o', keyFile])
  assert.equal(again.code, 1, 'an existing key file is never replaced')
  assert.match(again.stderr, /exists already/)

  const dht = await dhtNetwork(4)
  const local = ['--bootstrap', dht.bootstrap, '--no-lsd', '--bind', '127.0.0.1']
  const seeder = new Cli(['seed', 'site', '--json', ...local], dir)
  const processes = [seeder]
  try {
    const { magnet } = JSON.parse(await seeder.line(/"event":"seeding"/)) as { magnet: string }
    const publisher = new Cli(['publish', magnet, '--key', keyFile, '--json', '--bootstrap', dht.bootstrap, '--bind', '127.0.0.1'])
    processes.push(publisher)
    const { link } = JSON.parse(await publisher.line(/"event":"published"/)) as { link: string }
    assert.equal(link, `magnet:?xs=urn:btpk:${publicKey}`)

    const cat = await run(['cat', link, '/index.html', ...local], { ms: 60_000 })
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout.toString(), '<p>v1</p>\n')

    const serve = new Cli(['serve', '--port', '0', '--json', ...local])
    processes.push(serve)
    const { url } = JSON.parse(await serve.line(/"event":"listening"/)) as { url: string }
    const port = Number(new URL(url).port)
    const moved = await request(port, `/btpk/${publicKey}/`)
    assert.equal(moved.status, 301)
    // Node cannot resolve *.localhost: the Host header names the archive's origin instead.
    const page = await request(port, moved.headers.location!)
    assert.equal(page.status, 200)
    assert.equal(page.headers['cache-control'], 'no-cache')
    assert.equal(page.body.toString(), '<p>v1</p>\n')
  } finally {
    const ends = await Promise.all(processes.map((p) => p.stop('SIGINT')))
    await dht.close()
    for (const end of ends) assert.equal(end.code, 0, end.stderr)
  }
})

test('seed --publish: one process seeds and keeps the key\'s link fresh; get opens the link', { timeout: 90_000 }, async (t) => {
  const dir = await tmpDir(t, 'tl-cli-seedpub-')
  await fs.mkdir(path.join(dir, 'site'))
  await fs.writeFile(path.join(dir, 'site', 'index.html'), '<p>one process</p>\n')
  const keyFile = path.join(dir, 'site.key')
  const publicKey = (await run(['keygen', '-o', keyFile])).stdout.toString().trim()
  const dht = await dhtNetwork(4)
  const local = ['--bootstrap', dht.bootstrap, '--no-lsd', '--bind', '127.0.0.1']
  const seeder = new Cli(['seed', 'site', '--publish', keyFile, '--salt', 'www', '--json', ...local], dir)
  try {
    const { link } = JSON.parse(await seeder.line(/"event":"published"/)) as { link: string }
    assert.equal(link, `magnet:?xs=urn:btpk:${publicKey}&s=${Buffer.from('www').toString('hex')}`)
    const cat = await run(['cat', link, '/index.html', ...local], { ms: 60_000 })
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout.toString(), '<p>one process</p>\n')
  } finally {
    const end = await seeder.stop('SIGINT')
    await dht.close()
    assert.equal(end.code, 0, end.stderr)
  }
  // publish takes only the flags it uses: the peer-side ones are bad usage there.
  for (const flag of ['--no-lsd', '--no-pex', '--no-dht', '--port']) {
    assert.equal((await run(['publish', 'x', '--key', keyFile, flag, '1'])).code, 2, flag)
  }
})

test('demo: a complete offline run, exit 0', { timeout: 90_000 }, async () => {
  const r = await run(['demo', '--json'], { ms: 80_000 })
  assert.equal(r.code, 0, r.stderr)
  const events = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { event: string, step?: number })
  assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => e.step), [1, 2, 3, 4, 5, 6])
  assert.ok(events.some((e) => e.event === 'progress'))
  assert.deepEqual(events.at(-1), { event: 'stopped', reason: 'finished' })
})
