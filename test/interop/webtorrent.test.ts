import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import type WebTorrent from 'webtorrent'
import type { WebTorrentTorrent } from 'webtorrent'
import { loopbackWebTorrent } from '../helpers/webtorrent.js'
import { tmpDir, once } from '../helpers/fixtures.js'
import { STEP_MS, assertSameTree, downloaded, localClient, writeMultiFile } from './fixtures.js'

/** WebTorrent writes BEP47 pad files to disk as ordinary files; we never do. */
const isPadFile = (file: string): boolean => file.split('/').includes('.pad')

/** A WebTorrent client on 127.0.0.1 with every discovery off, destroyed when the test ends. */
async function webTorrent (t: TestContext): Promise<{ client: WebTorrent, port: number }> {
  const client = loopbackWebTorrent()
  client.on('error', (err: Error) => assert.fail(`WebTorrent failed: ${err.message}`))
  t.after(() => new Promise<void>((resolve) => client.destroy(() => resolve())))
  if (!client.listening) await once(client, 'listening', STEP_MS)
  const address = client.address()
  assert.equal(address?.address, '127.0.0.1', 'WebTorrent must listen on loopback only')
  return { client, port: address.port }
}

/** Resolves once `torrent` is complete, failing with WebTorrent's own error if it gives up. */
async function finished (torrent: WebTorrentTorrent): Promise<void> {
  if (torrent.done) return
  await new Promise<void>((resolve, reject) => {
    const settle = (err?: Error): void => {
      clearTimeout(timer)
      torrent.off('done', settle)
      torrent.off('error', settle)
      if (err === undefined) resolve()
      else reject(err)
    }
    const timer = setTimeout(() => settle(new Error(`WebTorrent did not finish within ${STEP_MS} ms`)), STEP_MS)
    torrent.on('done', settle)
    torrent.on('error', settle)
  })
}

test('we seed a multi-file torrent with BEP47 pad files and an empty file; WebTorrent fetches metadata and data from us', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'tree')
  await writeMultiFile(src)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { pad: true })

  const out = path.join(dir, 'out')
  const { client } = await webTorrent(t)
  const torrent = client.add(magnet, { path: out })
  torrent.once('infoHash', () => torrent.addPeer(`127.0.0.1:${seeder.port}`))
  await finished(torrent)
  assert.deepEqual(torrent.files.filter((f) => !isPadFile(f.path)).map((f) => f.path).sort(),
    ['tree/a.bin', 'tree/empty', 'tree/sub/b.bin', 'tree/sub/c.txt', 'tree/z.bin'])
  await assertSameTree(src, path.join(out, 'tree'), isPadFile)
})

test('WebTorrent seeds a multi-file torrent with an empty file; we fetch metadata and data from it by magnet link', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(path.join(src, 'tree'))
  const { client, port } = await webTorrent(t)
  const seeded = await new Promise<WebTorrentTorrent>((resolve) => client.seed(path.join(src, 'tree'), { announceList: [] }, resolve))

  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out)
  const archive = await leecher.lookup(`magnet:?xt=urn:btih:${seeded.infoHash}`, { download: 'all', peers: [`127.0.0.1:${port}`], timeout: STEP_MS })
  assert.equal(archive.name, 'tree')
  await downloaded(archive)
  await assertSameTree(path.join(src, 'tree'), path.join(out, 'tree'))
})
