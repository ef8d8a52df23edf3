import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import { VOTES_NEEDED } from '../../lib/discovery/dht-identity.js'
import { isBep42Valid } from '../../lib/discovery/bep42.js'
import type { InfoHash } from '../../lib/util/ids.js'
import { RawPeer } from '../hostile/raw-peer.js'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { ExternalAddress } from '../../lib/client/external-address.js'
import type { PeerList } from '../../lib/swarm/peer-list.js'

/** A public address (TEST-NET-3), as peers on the internet would tell us ours. */
const EXTERNAL = '203.0.113.9'
const YOURIP = Buffer.from([203, 0, 113, 9])

async function seeding (t: TestContext, opts: { dht: string[] | false }): Promise<{ client: Torrent, infoHash: InfoHash }> {
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, 64 * 1024)
  const client = new Torrent({ dht: opts.dht, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1' })
  t.after(() => client.stop())
  await client.start()
  const infoHash = parseMagnet(await client.seed(file)).infoHash!
  return { client, infoHash }
}

/** A peer from `localAddress` that tells the client, in its extended handshake, that it is EXTERNAL. */
async function tellYourIp (t: TestContext, client: Torrent, infoHash: InfoHash, localAddress: string): Promise<void> {
  const peer = new RawPeer(net.connect({ host: '127.0.0.1', port: client.port, localAddress }), { infoHash })
  t.after(() => peer.destroy())
  await peer.next((f) => f.type === 'extended' && f.id === 0, 5000)
  peer.sendExtendedHandshake({ yourip: YOURIP })
}

test(`client.externalAddress is what ${VOTES_NEEDED} peers at distinct addresses say in yourip, and not before`, async (t) => {
  const { client, infoHash } = await seeding(t, { dht: false })
  for (let i = 0; i < VOTES_NEEDED - 1; i++) await tellYourIp(t, client, infoHash, `127.0.0.${i + 2}`)
  // Each vote is counted when its handshake is read; one more round trip makes sure they were.
  await tellYourIp(t, client, infoHash, '127.0.0.2')
  assert.equal(client.externalAddress, null, `${VOTES_NEEDED - 1} addresses (one of them twice) are not enough`)
  await tellYourIp(t, client, infoHash, `127.0.0.${VOTES_NEEDED + 1}`)
  await until(() => client.externalAddress === EXTERNAL, 5000, 'the external address')
})

test('one address cannot set our external address, however many connections it makes', async (t) => {
  const { client, infoHash } = await seeding(t, { dht: false })
  for (let i = 0; i < VOTES_NEEDED * 2; i++) await tellYourIp(t, client, infoHash, '127.0.0.2')
  // A sixth voter sees the tally after all of the above were read.
  const last = new RawPeer(net.connect({ host: '127.0.0.1', port: client.port, localAddress: '127.0.0.3' }), { infoHash })
  t.after(() => last.destroy())
  await last.next((f) => f.type === 'extended' && f.id === 0, 5000)
  assert.equal(client.externalAddress, null)
})

test('peers\' yourip votes make the DHT node id BEP42-valid for our external address', async (t) => {
  const net1 = await dhtNetwork(1)
  t.after(() => net1.close())
  const { client, infoHash } = await seeding(t, { dht: [net1.bootstrap] })
  const dht = (client as unknown as { discovery: { dht: { nodeId: Buffer } } }).discovery.dht
  assert.equal(isBep42Valid(EXTERNAL, dht.nodeId), false)
  for (let i = 0; i < VOTES_NEEDED; i++) await tellYourIp(t, client, infoHash, `127.0.0.${i + 2}`)
  await until(() => client.externalAddress === EXTERNAL, 5000, 'the external address')
  assert.equal(isBep42Valid(EXTERNAL, dht.nodeId), true)
})

/** The client's ExternalAddress (its vote and hooks), and a swarm's peer list, reached for the tests. */
interface Internals {
  external: ExternalAddress
  swarms: Map<string, { swarm: { connections: { peerList: PeerList } } }>
}

test('ExternalAddress.address6: the global IPv6 address we listen on, else what IPv6 peers vote, never what IPv4 peers say', () => {
  assert.equal(new ExternalAddress(() => null, () => null, () => '2001:db8::5').address6, '2001:db8::5')
  for (const host of ['::', '::1', 'fd00::5', 'fe80::1', '127.0.0.1', undefined]) {
    const external = new ExternalAddress(() => null, () => null, () => host)
    assert.equal(external.address6, null, String(host))
    for (let i = 0; i < VOTES_NEEDED; i++) external.report('2001:db8::9', `127.0.0.${i + 2}`)
    assert.equal(external.address6, null, 'an IPv4 peer cannot see our IPv6 address')
    for (let i = 0; i < VOTES_NEEDED; i++) external.report('2001:db8::9', `2a00:${i}::1`)
    assert.equal(external.address6, '2001:db8::9')
    assert.equal(external.address, null, 'the IPv4 address is another vote')
  }
})

test('BEP7: a client that knows its IPv6 address tells it to IPv4 peers in `ipv6`', async (t) => {
  const { client, infoHash } = await seeding(t, { dht: false })
  const before = new RawPeer(net.connect({ host: '127.0.0.1', port: client.port }), { infoHash })
  t.after(() => before.destroy())
  await before.next((f) => f.type === 'extended' && f.id === 0, 5000)
  assert.equal(before.extensions?.ipv6, undefined, 'no IPv6 address known yet')
  const external = (client as unknown as Internals).external
  for (let i = 0; i < VOTES_NEEDED; i++) external.report('2001:db8::5', `2a00:${i}::1`)
  const after = new RawPeer(net.connect({ host: '127.0.0.1', port: client.port }), { infoHash })
  t.after(() => after.destroy())
  await after.next((f) => f.type === 'extended' && f.id === 0, 5000)
  assert.deepEqual(after.extensions?.ipv6, Buffer.from('20010db8000000000000000000000005', 'hex'))
})

test('BEP7: the ipv6 an IPv4 peer names enters the peer list as a PEX peer once it leaves; a local one does not', async (t) => {
  const { client, infoHash } = await seeding(t, { dht: false })
  const hello = async (ipv6: string): Promise<void> => {
    const peer = new RawPeer(net.connect({ host: '127.0.0.1', port: client.port }), { infoHash })
    t.after(() => peer.destroy())
    await peer.next((f) => f.type === 'extended' && f.id === 0, 5000)
    peer.sendExtendedHandshake({ p: 6881, ipv6: Buffer.from(ipv6, 'hex') })
    // TCP delivers the handshake before the close: the client reads it first.
    peer.socket.end()
  }
  await hello('20010db8000000000000000000000077')
  await hello('fd000000000000000000000000000077')
  const list = (client as unknown as Internals).swarms.get(infoHash.toString('hex'))!.swarm.connections.peerList
  await until(() => list.info('[2001:db8::77]:6881') !== undefined, 5000, 'the IPv6 address in the peer list')
  assert.deepEqual(list.info('[2001:db8::77]:6881')!.sources, ['pex'])
  assert.equal(list.info('[fd00::77]:6881'), undefined)
})
