import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent, Archive, createKeypair } from '../../index.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { tmpDir } from '../helpers/fixtures.js'

/**
 * UDP ports on 127.0.0.1 where nothing answers: bound, then closed. Queries to them get no reply
 * (an unconnected UDP socket sees no ICMP error), so each costs its node a full query timeout.
 */
async function deadNodes (count: number): Promise<string[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => new Promise<dgram.Socket>((resolve) => {
    const socket = dgram.createSocket('udp4')
    socket.bind(0, '127.0.0.1', () => resolve(socket))
  })))
  const addresses = sockets.map((s) => `127.0.0.1:${s.address().port}`)
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  return addresses
}

/** A stateDir whose node cache (the routing table of a last run) holds only `addresses`. */
async function stateWith (t: TestContext, addresses: string[]): Promise<string> {
  const dir = await tmpDir(t)
  const nodes = addresses.map((a) => ({ id: randomBytes(20).toString('hex'), host: '127.0.0.1', port: Number(a.split(':')[1]) }))
  await fs.writeFile(path.join(dir, 'dht-nodes.json'), JSON.stringify({ nodes }))
  return dir
}

async function started (t: TestContext, opts: ConstructorParameters<typeof Torrent>[0]): Promise<Torrent> {
  const client = new Torrent({ lsd: false, pex: false, host: '127.0.0.1', ...opts })
  t.after(() => client.stop())
  await client.start()
  return client
}

/** `promise` settled (either way) and how long that took. */
async function settled (promise: Promise<unknown>): Promise<{ error: (Error & { code?: string }) | null, ms: number }> {
  const start = Date.now()
  const error = await promise.then(() => null, (err: Error) => err)
  return { error, ms: Date.now() - start }
}

const TIMEOUT = 1500
/** The lookup timeout where a live node answers: the SPEC's example, a few query timeouts. */
const LIVE_TIMEOUT = 5000

test('dead bootstrap nodes and a routing table of dead nodes: the live part still finds the seeder and the mutable item', async (t) => {
  const net = await dhtNetwork(4)
  t.after(net.close)
  const dead = await deadNodes(153)
  const seeder = await started(t, { dht: [net.bootstrap] })
  const content = randomBytes(200_000)
  const draft = new Archive()
  await draft.writeFile('/data.bin', content)
  const magnet = await seeder.seed(draft)
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  const { publicKey, privateKey } = await createKeypair()
  const link = await seeder.publish(magnet, publicKey, privateKey)

  // Three dead routers before the live one, and a node cache of a last run whose nodes are all
  // gone: each dead node in the routing table would hold a query slot for a full query timeout.
  const reader = await started(t, { dht: [...dead.slice(0, 3), net.bootstrap], stateDir: await stateWith(t, dead.slice(3)) })
  const archive = await reader.lookup(infoHash, { download: 'all', timeout: LIVE_TIMEOUT })
  // Once complete, the reader closes its connections to seeds (BEP21): look while it downloads.
  const peers = new Set(archive.peers)
  archive.on('peer', (address) => peers.add(address))
  assert.deepEqual(await archive.readFile('/data.bin'), content)
  assert.ok(peers.has(`127.0.0.1:${seeder.port}`), 'connected to the seeder found through the live node')
  await archive.close()

  const viaLink = await reader.lookup(link, { timeout: LIVE_TIMEOUT })
  assert.deepEqual(await viaLink.readFile('/data.bin'), content)
  await viaLink.close()
})

test('with no live node, lookups by infohash and by mutable link reject with ETIMEDOUT near their timeout', async (t) => {
  const dead = await deadNodes(30)
  const infoHash = randomBytes(20).toString('hex')
  const { publicKey } = await createKeypair()
  const link = `magnet:?xs=urn:btpk:${publicKey.toString('hex')}`
  // Dead bootstrap only (the DHT never knows a node), and dead cached nodes (it knows only dead ones).
  const clients = [
    await started(t, { dht: dead.slice(0, 15) }),
    await started(t, { dht: dead.slice(0, 5), stateDir: await stateWith(t, dead.slice(15)) })
  ]
  for (const client of clients) {
    const results = await Promise.all([settled(client.lookup(infoHash, { timeout: TIMEOUT })), settled(client.lookup(link, { timeout: TIMEOUT }))])
    for (const [i, { error, ms }] of results.entries()) {
      const what = `${i === 0 ? 'infohash' : 'mutable'} lookup of client ${clients.indexOf(client)}`
      assert.equal(error?.code, 'ETIMEDOUT', `${what}: ${error?.message ?? 'resolved'}`)
      assert.ok(ms < 3 * TIMEOUT, `${what} settled after ${ms} ms, over 3x its ${TIMEOUT} ms timeout`)
    }
  }
  // Nothing the lookups started keeps a client from stopping.
  const stops = await Promise.all(clients.map((c) => settled(c.stop())))
  for (const { error, ms } of stops) {
    assert.equal(error, null)
    assert.ok(ms < 3 * TIMEOUT, `stop() took ${ms} ms`)
  }
})
