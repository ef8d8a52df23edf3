import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Torrent, Archive, createKeypair } from '../../index.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { once } from '../helpers/fixtures.js'

const MiB = 1024 * 1024

async function clients (t: import('node:test').TestContext, bootstrap: string, n: number): Promise<Torrent[]> {
  const all = Array.from({ length: n }, () => new Torrent({ dht: [bootstrap], lsd: false, host: '127.0.0.1' }))
  t.after(() => Promise.all(all.map((c) => c.stop())))
  await Promise.all(all.map((c) => c.start()))
  return all
}

async function draft (files: Record<string, Buffer | string>): Promise<Archive> {
  const archive = new Archive()
  for (const [path, data] of Object.entries(files)) await archive.writeFile(path, data)
  return archive
}

test('publish -> lookup of the btpk link in another client -> read; v2 reaches the reader as an update', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const [publisher, reader] = await clients(t, net.bootstrap, 2) as [Torrent, Torrent]
  const { publicKey, privateKey } = await createKeypair()

  const v1 = await publisher.seed(await draft({ '/index.html': '<h1>v1</h1>' }), { pad: true })
  const link = await publisher.publish(v1, publicKey, privateKey)
  assert.equal(link, `magnet:?xs=urn:btpk:${publicKey.toString('hex')}`)

  const archive = await reader.lookup(link, { updateInterval: 100, timeout: 10_000 })
  assert.equal(await archive.readFile('/index.html', 'utf8'), '<h1>v1</h1>')
  assert.equal(archive.url, link)

  const v2 = await publisher.seed(await draft({ '/index.html': '<h1>v2</h1>' }), { pad: true })
  assert.equal(await publisher.publish(v2, publicKey, privateKey), link)
  const [update] = await once<[{ seq: number, infoHash: string }]>(archive, 'update', 20_000)
  assert.equal(update.seq, 2)
  assert.ok(v2.startsWith(`magnet:?xt=urn:btih:${update.infoHash}&`), v2)
  assert.equal(await archive.readFile('/index.html', 'utf8'), '<h1>v2</h1>')
  await archive.close()
})

test('a salted link is its own item, and a client without the DHT says so', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const [publisher, reader] = await clients(t, net.bootstrap, 2) as [Torrent, Torrent]
  const { publicKey, privateKey } = await createKeypair()
  const magnet = await publisher.seed(await draft({ '/a.txt': 'salted' }))
  const link = await publisher.publish(magnet, publicKey, privateKey, { salt: 'blog' })
  assert.equal(link, `magnet:?xs=urn:btpk:${publicKey.toString('hex')}&s=${Buffer.from('blog').toString('hex')}`)
  assert.equal(await (await reader.lookup(link, { timeout: 10_000 })).readFile('/a.txt', 'utf8'), 'salted')
  await assert.rejects(reader.lookup(`magnet:?xs=urn:btpk:${publicKey.toString('hex')}`, { timeout: 2_000 }), { code: 'ETIMEDOUT' })

  const offline = new Torrent({ dht: false, lsd: false, host: '127.0.0.1' })
  await offline.start()
  t.after(() => offline.stop())
  await assert.rejects(offline.publish(magnet, publicKey, privateKey), { code: 'ENOTSTARTED' })
  await assert.rejects(offline.lookup(link), { code: 'ENOTSTARTED' })
  await assert.rejects(publisher.publish(magnet, publicKey, (await createKeypair()).privateKey), { code: 'EBADSIG' })
})

test('moving to v2 downloads only the changed file: 10 files of 4 MiB, one changed and one renamed', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const [publisher, reader] = await clients(t, net.bootstrap, 2) as [Torrent, Torrent]
  const { publicKey, privateKey } = await createKeypair()
  const files: Record<string, Buffer> = {}
  for (let i = 0; i < 10; i++) files[`/file-${i}.bin`] = randomBytes(4 * MiB)
  const v1 = await publisher.seed(await draft(files), { pad: true })
  const link = await publisher.publish(v1, publicKey, privateKey)
  const archive = await reader.lookup(link, { download: 'all', updateInterval: 100, timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 60_000)

  // v2 changes file-3 and renames file-9: unchanged data at a new path is found by piece hash,
  // not by the resume scan of the old path.
  const changed = randomBytes(4 * MiB)
  const { '/file-9.bin': moved, ...kept } = files
  await publisher.publish(await publisher.seed(await draft({ ...kept, '/file-3.bin': changed, '/renamed.bin': moved! }), { pad: true }), publicKey, privateKey)
  await once(archive, 'update', 20_000)
  if (archive.progress < 1) await once(archive, 'done', 60_000)

  assert.ok((await archive.readFile('/file-3.bin') as Buffer).equals(changed))
  assert.ok((await archive.readFile('/file-7.bin') as Buffer).equals(files['/file-7.bin']!))
  assert.ok((await archive.readFile('/renamed.bin') as Buffer).equals(moved!))
  assert.equal(await archive.exists('/file-9.bin'), false)
  // archive.downloaded counts the new version's torrent only: its piece data from peers.
  assert.ok(archive.downloaded <= 4 * MiB * 1.1, `moving to v2 downloaded ${archive.downloaded} bytes for one changed 4 MiB file`)
  assert.ok(archive.downloaded >= 4 * MiB, 'the changed file itself had to be downloaded')
})
