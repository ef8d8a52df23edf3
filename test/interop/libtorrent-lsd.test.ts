import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir } from '../helpers/fixtures.js'
import { STEP_MS } from './fixtures.js'
import { startJsonChild } from '../helpers/json-child.js'
import { libtorrentMissing, startLtPeer, startLtSeeder } from './lt-peer.js'
import { NETNS_MISSING, loopbackNamespace } from '../helpers/netns.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 30
/** Our LSD peer (seed <hex content> | get <infohash>), shared with the discovery tests. */
const LSD_CHILD = fileURLToPath(new URL('../discovery/lsd-child.js', import.meta.url))

interface Got { content: string, peers: string[] }
interface Downloaded { name: string, clients: Array<{ name: string }> }

test('LSD with no DHT: libtorrent and trackerless find each other by multicast inside a network namespace, both directions', { skip }, async (t) => {
  const netns = await loopbackNamespace(t, 'lt-lsd')
  if (netns === null) {
    t.skip(NETNS_MISSING)
    return
  }
  const dir = await tmpDir(t)
  const content = randomBytes(60_000)
  const src = path.join(dir, 'src')
  await fs.mkdir(src)
  await fs.writeFile(path.join(src, 'data.bin'), content)

  // libtorrent seeds; ours, given only the infohash, announces it and libtorrent dials in.
  const created = await startLtSeeder(t, src, path.join(src, 'data.bin'), LT_LIMIT_S,
    { create: ['--piece-length', String(16 * 1024)], seed: ['--lsd'], netns })
  const got = await startJsonChild(t, 'lsd-child get', process.execPath, [LSD_CHILD, 'get', created.infoHash], { netns })
    .next<Got>('content', STEP_MS)
  assert.ok(Buffer.from(got.content, 'hex').equals(content), 'data.bin differs')
  // libtorrent's own connection, from a port of its choosing, not its listen port.
  assert.equal(got.peers.length, 1, `ours had other peers than libtorrent: ${got.peers.join(', ')}`)

  // We seed; libtorrent, given the magnet link alone, announces it and we dial it.
  const ours = startJsonChild(t, 'lsd-child seed', process.execPath, [LSD_CHILD, 'seed', content.toString('hex')], { netns })
  const { magnet } = await ours.next<{ magnet: string }>('magnet link', STEP_MS)
  const out = path.join(dir, 'out')
  const downloaded = await startLtPeer(t, ['download', magnet, out, '--lsd'], LT_LIMIT_S, { netns })
    .next<Downloaded>('finished download', STEP_MS)
  assert.ok(downloaded.clients.some((c) => c.name.startsWith('trackerless ')), 'libtorrent did not download from us')
  assert.ok((await fs.readFile(path.join(out, 'archive', 'data.bin'))).equals(content), 'data.bin differs')
})
