import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import DHT from 'bittorrent-dht'
import { Torrent, Archive } from '../../index.js'
import { tmpDir, until } from '../helpers/fixtures.js'

/** A DHT node alone on 127.0.0.1, the only bootstrap of the clients in these tests. */
async function bootstrapNode (t: { after: (fn: () => Promise<void>) => void }): Promise<{ dht: DHT, address: string }> {
  const dht = new DHT({ bootstrap: false })
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => new Promise<void>((resolve) => dht.destroy(() => resolve())))
  return { dht, address: `127.0.0.1:${dht.address().port}` }
}

function client (opts: ConstructorParameters<typeof Torrent>[0]): Torrent {
  return new Torrent({ lsd: false, pex: false, host: '127.0.0.1', ...opts })
}

/** Resolves once `dht` can find a peer for `infoHash` through the network. */
async function announcedIn (dht: DHT, infoHash: string): Promise<void> {
  let found = false
  const onPeer = (_peer: unknown, hash: Buffer): void => { if (hash.toString('hex') === infoHash) found = true }
  dht.on('peer', onPeer)
  try {
    for (let i = 0; i < 100 && !found; i++) {
      await new Promise<void>((resolve) => dht.lookup(infoHash, () => resolve()))
      if (!found) await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } finally {
    dht.off('peer', onPeer)
  }
  assert.ok(found, 'the seeder was never found in the DHT')
}

test('a client given only the infohash finds a 20-client swarm through the DHT and downloads', async (t) => {
  const boot = await bootstrapNode(t)
  const clients = Array.from({ length: 20 }, () => client({ dht: [boot.address] }))
  t.after(() => Promise.all(clients.map((c) => c.stop())))
  await Promise.all(clients.map((c) => c.start()))
  for (const c of clients) assert.ok(c.dhtPort > 0)

  const content = randomBytes(300_000)
  const draft = new Archive()
  await draft.writeFile('/data.bin', content)
  const magnet = await clients[0]!.seed(draft)
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  await announcedIn(boot.dht, infoHash)

  const reader = clients[19]!
  const archive = await reader.lookup(infoHash, { download: 'all', timeout: 20_000 })
  // Once complete, the reader closes its connections to seeds (BEP21): look while it downloads.
  const peers = new Set(archive.peers)
  archive.on('peer', (address) => peers.add(address))
  assert.deepEqual(await archive.readFile('/data.bin'), content)
  assert.ok(peers.has(`127.0.0.1:${clients[0]!.port}`), 'connected to the seeder it found in the DHT')
  await archive.close()
})

test('the node cache in stateDir bootstraps the next run with no bootstrap list', async (t) => {
  const boot = await bootstrapNode(t)
  const stateDir = await tmpDir(t)
  const seeder = client({ dht: [boot.address] })
  t.after(() => seeder.stop())
  await seeder.start()
  const draft = new Archive()
  await draft.writeFile('/a.txt', 'cached nodes work')
  const infoHash = /btih:([0-9a-f]{40})/.exec(await seeder.seed(draft))![1]!
  await announcedIn(boot.dht, infoHash)

  const first = client({ dht: [boot.address], stateDir })
  await first.start()
  await until(() => boot.dht.nodes.toArray().some((n) => n.port === first.dhtPort), 10_000, 'the first run joining the DHT')
  await first.stop()
  const saved = JSON.parse(await fs.readFile(path.join(stateDir, 'dht-nodes.json'), 'utf8')) as { nodes: Array<{ port: number }> }
  assert.ok(saved.nodes.some((n) => n.port === boot.dht.address().port), 'the bootstrap node was saved')

  const second = client({ dht: [], stateDir })
  t.after(() => second.stop())
  await second.start()
  const archive = await second.lookup(infoHash, { timeout: 20_000 })
  assert.equal(await archive.readFile('/a.txt', 'utf8'), 'cached nodes work')
  await archive.close()
})
