import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { DhtDiscovery } from '../../lib/discovery/dht.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { krpcSocket, type KrpcSocket } from '../helpers/krpc.js'
import { until } from '../helpers/fixtures.js'

/**
 * The honest network and the victim live on 127.0.0.1; the attacker on 127.0.0.2. Loopback is
 * exempt from the per-address limits by default (as every node of a test shares it), so the
 * victim here exempts only 127.0.0.1 and meets the attacker as it would a public address.
 */
const ATTACKER = '127.0.0.2'
const honestOnly = (host: string): boolean => host === '127.0.0.1'

async function attackerSockets (count: number): Promise<KrpcSocket[]> {
  return Promise.all(Array.from({ length: count }, () => krpcSocket(ATTACKER)))
}

test('a flood from 200 ports of one address leaves at most one routing-table node of it, and a DHT lookup still finds the seed', async (t) => {
  const network = await dhtNetwork(8)
  t.after(network.close)
  const infoHash = randomBytes(20)
  // The seed: a node of the honest network announces the torrent at peer port 7000.
  await new Promise<void>((resolve, reject) => network.nodes[3]!.announce(infoHash, 7000, (err) => err === null ? resolve() : reject(err)))

  const found: string[] = []
  // BEP42 enforcement off: this test is about the one-node-per-address rule and the rate limit.
  const victim = new DhtDiscovery({
    bootstrap: [network.bootstrap], port: 0, host: '127.0.0.1', peerPort: 7001,
    onPeer: (hash, address) => { if (hash === infoHash.toString('hex')) found.push(address) },
    guard: { exempt: honestOnly, enforceNodeId: false }
  })
  t.after(() => victim.close())
  const port = await victim.start()
  await until(() => (victim.node?.nodes.count() ?? 0) >= network.nodes.length, 10_000, 'the victim joined the honest network')

  // 200 ports x 100 packets: ping queries and unsolicited find_node responses, each with a fresh
  // random node id, sent in rounds so that the kernel's receive buffer does not drop them.
  const sockets = await attackerSockets(200)
  t.after(() => Promise.all(sockets.map((s) => s.close())))
  for (let round = 0; round < 100; round++) {
    for (const s of sockets) {
      s.send(port, round % 2 === 0
        ? { t: randomBytes(2), y: 'q', q: 'ping', a: { id: randomBytes(20) } }
        : { t: randomBytes(2), y: 'r', r: { id: randomBytes(20), nodes: Buffer.alloc(0) } })
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  // A ping from the honest address, answered only once everything sent before it was read.
  const probe = await krpcSocket('127.0.0.1')
  t.after(() => probe.close())
  assert.notEqual(await probe.query(port, 'ping', { id: randomBytes(20) }), null, 'the victim still answers the honest network')

  const fake = victim.node!.nodes.toArray().filter((n) => n.host === ATTACKER)
  assert.ok(fake.length <= 1, `${fake.length} routing-table nodes at ${ATTACKER}`)
  const stats = victim.guardStats
  assert.ok(stats.rateLimited > 0, 'packets past the per-address rate were dropped')
  assert.ok(stats.sameAddress > 0, 'nodes of an address already in the table were refused')

  await victim.join(infoHash.toString('hex'), () => found.length === 0)
  await until(() => found.length > 0, 15_000, 'the victim found the seed')
  assert.ok(found.includes('127.0.0.1:7000'), `found ${found.join(', ')}`)
})

test('queries past the per-source rate limit get no answer', async (t) => {
  // A clock that stands still: the bucket never refills, so exactly `burst` queries are answered.
  const victim = new DhtDiscovery({
    bootstrap: [], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {},
    guard: { exempt: honestOnly, burst: 10, perSecond: 1, now: () => 0 }
  })
  t.after(() => victim.close())
  const port = await victim.start()
  const attacker = await krpcSocket(ATTACKER)
  const other = await krpcSocket('127.0.0.3')
  t.after(() => Promise.all([attacker.close(), other.close()]))

  for (let i = 0; i < 50; i++) attacker.send(port, { t: Buffer.from([0, i + 1]), y: 'q', q: 'ping', a: { id: randomBytes(20) } })
  // Another address has its own budget: answered, and only after the 50 before it were read.
  assert.notEqual(await other.query(port, 'ping', { id: randomBytes(20) }), null, 'another source is answered')
  await until(() => attacker.replies >= 10, 5000, 'the first 10 pings answered')
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(attacker.replies, 10)
  assert.equal(victim.guardStats.rateLimited, 40)
})

test('responses nobody asked for are dropped: their node ids never enter the routing table', async (t) => {
  const victim = new DhtDiscovery({ bootstrap: [], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => victim.close())
  const port = await victim.start()
  // Ten addresses, each well within its rate and alone at its address (loopback is exempt anyway).
  const fakes = await Promise.all(Array.from({ length: 10 }, (_, i) => krpcSocket(`127.0.0.${i + 2}`)))
  t.after(() => Promise.all(fakes.map((s) => s.close())))
  for (const s of fakes) s.send(port, { t: randomBytes(2), y: 'r', r: { id: randomBytes(20) } })
  const probe = await krpcSocket('127.0.0.100')
  t.after(() => probe.close())
  assert.notEqual(await probe.query(port, 'find_node', { id: randomBytes(20), target: randomBytes(20) }), null)
  const hosts = victim.node!.nodes.toArray().map((n) => n.host)
  assert.deepEqual(hosts, ['127.0.0.100'], 'only the node that queried us is in the table')
  assert.equal(victim.guardStats.unsolicited, 10)
})
