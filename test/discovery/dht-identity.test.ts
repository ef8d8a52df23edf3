import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { DhtDiscovery } from '../../lib/discovery/dht.js'
import { isBep42Valid } from '../../lib/discovery/bep42.js'
import { VOTES_NEEDED } from '../../lib/discovery/dht-identity.js'
import { krpcSocket, type KrpcSocket } from '../helpers/krpc.js'
import { until } from '../helpers/fixtures.js'

/** A public address, as nodes on the internet would report ours (BEP42's `ip`, compact). */
const EXTERNAL = '124.31.75.21'
const COMPACT = Buffer.from([124, 31, 75, 21, 0x1a, 0xe1])

/** A node at `host` that answers every query with its id and BEP42's `ip` of the asker. */
function reporter (host: string): Promise<KrpcSocket> {
  const id = randomBytes(20)
  return krpcSocket(host, () => ({ y: 'r', r: { id, nodes: Buffer.alloc(0) }, ip: COMPACT }))
}

test('our node id becomes BEP42-valid for the external address that the nodes we ask report', async (t) => {
  const reporters = await Promise.all(Array.from({ length: VOTES_NEEDED }, (_, i) => reporter(`127.0.0.${i + 2}`)))
  const stranger = await krpcSocket('127.0.0.100')
  t.after(() => Promise.all([...reporters, stranger].map((s) => s.close())))
  // Bootstraps through all but one reporter: one vote short.
  const bootstrap = reporters.slice(0, -1).map((s) => `127.0.0.${reporters.indexOf(s) + 2}:${s.port}`)
  const node = new DhtDiscovery({ bootstrap, port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => node.close())
  const port = await node.start()
  const first = Buffer.from(node.node!.nodeId)
  await until(() => node.node!.nodes.count() === VOTES_NEEDED - 1, 5000, 'the bootstrap nodes in the routing table')

  // A report in a response nobody asked for does not count, however often it comes.
  for (let i = 0; i < VOTES_NEEDED; i++) stranger.send(port, { t: randomBytes(2), y: 'r', r: { id: randomBytes(20) }, ip: COMPACT })
  // Answered only after the reports before it were read.
  assert.notEqual(await stranger.query(port, 'ping', { id: randomBytes(20) }), null)
  assert.equal(node.guardStats.unsolicited, VOTES_NEEDED)
  assert.deepEqual(node.node!.nodeId, first, `${VOTES_NEEDED - 1} votes change nothing`)

  // The last reporter: the node pings it before it enters the table, and hears the fifth vote.
  node.node!.addNode({ host: `127.0.0.${VOTES_NEEDED + 1}`, port: reporters.at(-1)!.port })
  await until(() => isBep42Valid(EXTERNAL, node.node!.nodeId), 5000, 'a BEP42 id for the voted address')
  await until(() => node.node!.nodes.count() === VOTES_NEEDED + 1, 5000, 'the table kept its nodes and took the last reporter and the stranger')
  const pong = await stranger.query(port, 'ping', { id: randomBytes(20) })
  assert.deepEqual(Buffer.from(pong!.id as Uint8Array), node.node!.nodeId, 'the node answers with its new id')
})

test('our responses tell the asker its address (BEP42 ip), and stay valid bencode', async (t) => {
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => node.close())
  const port = await node.start()
  const asker = await krpcSocket('127.0.0.7')
  t.after(() => asker.close())
  const reply = await asker.query(port, 'find_node', { id: randomBytes(20), target: randomBytes(20) })
  assert.ok(reply !== null)
  const ip = asker.last?.ip as Uint8Array
  assert.deepEqual(Array.from(ip.subarray(0, 4)), [127, 0, 0, 7])
  assert.equal(Buffer.from(ip).readUInt16BE(4), asker.port)
  assert.deepEqual(Buffer.from(reply.id as Uint8Array), node.node!.nodeId)
})

test('reportExternalAddress (BEP10 yourip) votes the same way', async (t) => {
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => node.close())
  await node.start()
  for (let i = 0; i < VOTES_NEEDED - 1; i++) node.reportExternalAddress(EXTERNAL, `127.0.1.${i}`)
  assert.ok(!isBep42Valid(EXTERNAL, node.node!.nodeId))
  node.reportExternalAddress(EXTERNAL, '127.0.2.1')
  assert.ok(isBep42Valid(EXTERNAL, node.node!.nodeId))
})

test('the IPv6 node takes a BEP42 id for its voted IPv6 address, voters counted by /64, and keeps it for another address of that /64', async (t) => {
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '::1', peerPort: 7001, onPeer: () => {}, family: 6 })
  t.after(() => node.close())
  await node.start()
  const external = '2001:db8:77:1::5'
  for (let i = 0; i < 3 * VOTES_NEEDED; i++) node.reportExternalAddress(external, `2a00:5:5:5::${i}`)
  assert.ok(!isBep42Valid(external, node.node!.nodeId), 'one /64 is one voter')
  for (let i = 1; i < VOTES_NEEDED; i++) node.reportExternalAddress(external, `2a00:5:5:${i + 5}::1`)
  assert.ok(isBep42Valid(external, node.node!.nodeId))
  assert.equal(node.externalAddress, external)
  const id = Buffer.from(node.node!.nodeId)
  for (let i = 0; i < VOTES_NEEDED; i++) node.reportExternalAddress('2001:db8:77:1::9', `2a00:6:${i}::1`)
  assert.equal(node.externalAddress, '2001:db8:77:1::9')
  assert.deepEqual(node.node!.nodeId, id, 'a new address in the same /64: the id holds')
})

test('our IPv6 responses carry BEP42\'s ip as 18 bytes', async (t) => {
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '::1', peerPort: 7001, onPeer: () => {}, family: 6 })
  t.after(() => node.close())
  const port = await node.start()
  const asker = await krpcSocket('::1')
  t.after(() => asker.close())
  assert.notEqual(await asker.query(port, 'ping', { id: randomBytes(20) }), null)
  const ip = Buffer.from(asker.last?.ip as Uint8Array)
  assert.equal(ip.length, 18)
  assert.deepEqual(ip.subarray(0, 16), Buffer.from('00000000000000000000000000000001', 'hex'))
  assert.equal(ip.readUInt16BE(16), asker.port)
})
