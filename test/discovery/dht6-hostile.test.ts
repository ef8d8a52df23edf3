import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import KBucket from 'k-bucket'
import { DhtDiscovery } from '../../lib/discovery/dht.js'
import { DhtGuard, Solicited } from '../../lib/discovery/dht-guard.js'
import { bep42NodeId } from '../../lib/discovery/bep42.js'
import { krpcSocket, type KrpcSocket } from '../helpers/krpc.js'
import { until } from '../helpers/fixtures.js'

/** A compact IPv6 node (BEP32): 20-byte id, 16-byte address, port. */
function node6 (id: Buffer, port: number): Buffer {
  const entry = Buffer.alloc(38)
  id.copy(entry)
  entry[35] = 1 // ::1
  entry.writeUInt16BE(port, 36)
  return entry
}

/** A KRPC endpoint on ::1 that answers every query with `r` and counts the queries it got. */
async function answering (t: TestContext, r: (id: Buffer) => Record<string, unknown>): Promise<KrpcSocket & { queries: () => number }> {
  const id = randomBytes(20)
  let queries = 0
  const socket = await krpcSocket('::1', () => {
    queries++
    return { y: 'r', r: { id, token: Buffer.from('tk'), ...r(id) } }
  })
  t.after(() => socket.close())
  return Object.assign(socket, { queries: () => queries })
}

async function victim (t: TestContext, bootstrap: string[]): Promise<DhtDiscovery> {
  const node = new DhtDiscovery({ bootstrap, port: 0, host: '::1', peerPort: 7001, onPeer: () => {}, family: 6 })
  t.after(() => node.close())
  await node.start()
  return node
}

test('nodes6 of a wrong length adds no node and draws no query; a well-formed nodes6 does', async (t) => {
  const bad = await answering(t, () => ({}))
  const good = await answering(t, () => ({}))
  // 52 bytes: a whole entry naming `bad`, and 14 more, as two 26-byte IPv4 entries sent as nodes6
  // would be; and 37 bytes, one short of an entry.
  const misaligned = await answering(t, () => ({ nodes6: Buffer.concat([node6(randomBytes(20), bad.port), randomBytes(14)]) }))
  const short = await answering(t, () => ({ nodes6: node6(randomBytes(20), bad.port).subarray(0, 37) }))
  const honest = await answering(t, () => ({ nodes6: node6(randomBytes(20), good.port) }))
  const node = await victim(t, [misaligned, short, honest].map((s) => `[::1]:${s.port}`))
  await until(() => node.node?.ready === true, 10_000, 'the bootstrap walk done')
  assert.ok(good.queries() > 0, 'the node named by a well-formed nodes6 was queried')
  assert.equal(bad.queries(), 0, 'the node inside a misaligned nodes6 was queried')
  assert.ok(!node.node!.nodes.toArray().some((n) => n.port === bad.port))
})

test('a flood of queries with fresh ids from one /64 leaves one routing-table node of it', async (t) => {
  // ::1 counts as a public address here: the guard exempts loopback by default. Ids are not
  // checked, or BEP42 would refuse these random ones before the /64 rule is met.
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '::1', peerPort: 7001, onPeer: () => {}, family: 6, guard: { exempt: () => false, enforceNodeId: false } })
  t.after(() => node.close())
  const port = await node.start()
  const sockets = await Promise.all(Array.from({ length: 50 }, () => krpcSocket('::1')))
  t.after(() => Promise.all(sockets.map((s) => s.close())))
  for (let round = 0; round < 4; round++) {
    for (const s of sockets) s.send(port, { t: randomBytes(2), y: 'q', q: 'ping', a: { id: randomBytes(20) } })
    await new Promise((resolve) => setImmediate(resolve))
  }
  await until(() => node.guardStats.rateLimited + node.guardStats.sameAddress >= 199, 10_000, 'every ping read')
  assert.equal(node.node!.nodes.count(), 1)
  assert.ok(node.guardStats.sameAddress > 0, 'nodes of an address already in the table were refused')
})

test('the routing table admits one node per IPv6 /64, and any number of /64s', () => {
  const guard = new DhtGuard({ enforceNodeId: false, exempt: () => false })
  const table = new KBucket({ localNodeId: randomBytes(20) })
  guard.watch(table)
  const hosts = ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2:0:0:0:2', '2001:db8:1:3::1', '2001:db8:2:2::1']
  for (const host of hosts) table.add({ id: randomBytes(20), host, port: 6881 })
  assert.deepEqual(table.toArray().map((n) => n.host).sort(), ['2001:db8:1:2::1', '2001:db8:1:3::1', '2001:db8:2:2::1'])
  assert.equal(guard.stats.sameAddress, 2)
})

test('BEP42 on the IPv6 DHT: a node whose id is not valid for its address stays out of the table, a valid one enters', async (t) => {
  // ::1 treated as public, as a node on the internet would be; ids are checked by default.
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '::1', peerPort: 7001, onPeer: () => {}, family: 6, guard: { exempt: () => false } })
  t.after(() => node.close())
  const port = await node.start()
  const [liar, honest] = await Promise.all([krpcSocket('::1'), krpcSocket('::1')])
  t.after(() => Promise.all([liar, honest].map((s) => s.close())))
  const bad = bep42NodeId('::1', randomBytes(20))!
  bad[0]! ^= 0x80
  assert.notEqual(await liar.query(port, 'ping', { id: bad }), null)
  assert.equal(node.guardStats.badNodeId, 1)
  assert.equal(node.node!.nodes.count(), 0)
  const good = bep42NodeId('::1', randomBytes(20))!
  assert.notEqual(await honest.query(port, 'ping', { id: good }), null)
  assert.deepEqual(node.node!.nodes.toArray().map((n) => Buffer.from(n.id!)), [good])
  assert.equal(node.guardStats.badNodeId, 1)
})

test('Solicited counts an IPv6 address by its /64: one /64\'s many addresses cannot push out the queries we have out to others', () => {
  const solicited = new Solicited(() => 0, 4)
  solicited.sent('2001:db8:1:2::1')
  // A hostile node's nodes6 names 100 addresses of its own /64, and we query each.
  for (let i = 0; i < 100; i++) solicited.sent(`2001:db8:bad:bad::${i.toString(16)}`)
  assert.ok(solicited.answered('2001:db8:1:2::1'), 'our query to another /64 is still out')
  assert.ok(!solicited.answered('2001:db8:1:2::1'), 'and answered once only')
  assert.ok(solicited.answered('2001:db8:bad:bad:0:0:0:ffff'), 'the /64 is the key the table and the rate limit use too')
  assert.ok(!solicited.answered('2001:db8:1:3::1'), 'a /64 we never asked')
  solicited.sent('10.0.0.1')
  assert.ok(!solicited.answered('10.0.0.2'), 'IPv4 addresses stay whole')
  assert.ok(solicited.answered('10.0.0.1'))
})
