import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import fs from 'node:fs/promises'
import path from 'node:path'
import { EventEmitter } from 'node:events'
import DHT from 'bittorrent-dht'
import { Torrent, Archive, createKeypair, type TorrentOptions } from '../../index.js'
import { verify, sign, loadEd25519 } from '../../lib/mutable/keys.js'
import { eitherFamily, type DhtItem, type JoinableDht } from '../../lib/mutable/dht-api.js'
import { signedData } from '../../lib/mutable/item.js'
import { DhtFamilies } from '../../lib/discovery/dht-families.js'
import { familiesFor } from '../../lib/discovery/dht-family.js'
import { Command } from 'commander'
import { addCommonOptions, addDhtOptions, clientOptions, type CommonOptions } from '../../lib/cli/common.js'
import { tmpDir, until } from '../helpers/fixtures.js'

/** A bittorrent-dht node of `family` alone on loopback: the bootstrap of the clients here. */
async function bootNode (t: TestContext, family: 4 | 6): Promise<{ dht: DHT, address: string }> {
  await loadEd25519()
  const host = family === 6 ? '::1' : '127.0.0.1'
  const dht = new DHT({ bootstrap: false, family, verify })
  await new Promise<void>((resolve) => dht.listen(0, host, () => resolve()))
  t.after(() => new Promise<void>((resolve) => dht.destroy(() => resolve())))
  const port = dht.address().port
  return { dht, address: family === 6 ? `[::1]:${port}` : `127.0.0.1:${port}` }
}

async function client (t: TestContext, opts: TorrentOptions): Promise<Torrent> {
  // natTraversal off: a client with no host would otherwise ask the default gateway for a mapping.
  const c = new Torrent({ lsd: false, pex: false, natTraversal: false, ...opts })
  t.after(() => c.stop())
  await c.start()
  return c
}

async function draft (text: string): Promise<Archive> {
  const archive = new Archive()
  await archive.writeFile('/a.txt', text)
  return archive
}

test('which DHT nodes a client runs for its host', () => {
  assert.deepEqual(familiesFor(undefined, true), [4, 6])
  assert.deepEqual(familiesFor('::', true), [4, 6])
  assert.deepEqual(familiesFor(undefined, false), [4])
  assert.deepEqual(familiesFor('127.0.0.1', true), [4])
  assert.deepEqual(familiesFor('::1', true), [6])
  assert.deepEqual(familiesFor('::1', false), [6])
})

test('CLI: --no-dht6 turns the IPv6 node off, in every command that has a DHT', () => {
  for (const add of [addCommonOptions, addDhtOptions]) {
    const parse = (args: string[]): CommonOptions => add(new Command()).exitOverride().parse(args, { from: 'user' }).opts<CommonOptions>()
    assert.equal(clientOptions(parse(['--no-dht6'])).dht6, false)
    assert.equal(clientOptions(parse(['--bootstrap', '[::1]:6881'])).dht6, undefined)
    // publish has no --no-dht: it sets dht itself.
    assert.deepEqual(clientOptions({ ...parse(['--bootstrap', '[::1]:6881']), dht: true }).dht, ['[::1]:6881'])
  }
})

test('three clients on ::1 alone find a seed and a BEP46 link through the IPv6 DHT', async (t) => {
  const boot = await bootNode(t, 6)
  const [seeder, publisher, reader] = await Promise.all([0, 1, 2].map(() => client(t, { host: '::1', dht: [boot.address] })))
  assert.ok(seeder!.dhtPort > 0)

  const magnet = await seeder!.seed(await draft('over the IPv6 DHT'))
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  const archive = await reader!.lookup(infoHash, { timeout: 20_000 })
  // Once complete, the reader closes its connections to seeds (BEP21): look while it downloads.
  const peers = new Set(archive.peers)
  archive.on('peer', (address) => peers.add(address))
  assert.equal(await archive.readFile('/a.txt', 'utf8'), 'over the IPv6 DHT')
  assert.ok(peers.has(`[::1]:${seeder!.port}`), `connected to the seeder it found in the DHT (${[...peers].join(', ')})`)
  await archive.close()

  const { publicKey, privateKey } = await createKeypair()
  const link = await publisher!.publish(magnet, publicKey, privateKey)
  const linked = await reader!.lookup(link, { timeout: 20_000 })
  assert.equal(await linked.readFile('/a.txt', 'utf8'), 'over the IPv6 DHT')
  await linked.close()
  // Every node the bootstrap node knows is an IPv6 one, our three clients among them.
  const known = boot.dht.nodes.toArray()
  assert.ok(known.length >= 3 && known.every((n) => n.host === '::1'), JSON.stringify(known.map((n) => `${n.host}:${n.port}`)))
})

test('a client on every interface joins both DHTs at one port number; its announce and its item reach both', async (t) => {
  const [boot4, boot6] = await Promise.all([bootNode(t, 4), bootNode(t, 6)])
  const both = await client(t, { dht: [boot4.address, boot6.address] })
  const port = both.dhtPort
  await until(() => boot4.dht.nodes.toArray().some((n) => n.port === port) && boot6.dht.nodes.toArray().some((n) => n.host === '::1' && n.port === port),
    10_000, 'the client in both routing tables')

  const magnet = await both.seed(await draft('both families'))
  const { publicKey, privateKey } = await createKeypair()
  const link = await both.publish(magnet, publicKey, privateKey)
  // Each reader is in one DHT only: what it finds was announced and put there.
  const reader4 = await client(t, { host: '127.0.0.1', dht: [boot4.address] })
  const reader6 = await client(t, { host: '::1', dht: [boot6.address] })
  for (const [reader, address] of [[reader4, `127.0.0.1:${both.port}`], [reader6, `[::1]:${both.port}`]] as const) {
    const archive = await reader.lookup(link, { timeout: 20_000 })
    const peers = new Set(archive.peers)
    archive.on('peer', (peer) => peers.add(peer))
    assert.equal(await archive.readFile('/a.txt', 'utf8'), 'both families')
    assert.ok(peers.has(address), `${address} among ${[...peers].join(', ')}`)
    await archive.close()
  }
})

test('the IPv6 node cache in stateDir bootstraps the next run, beside the IPv4 one', async (t) => {
  const [boot4, boot6] = await Promise.all([bootNode(t, 4), bootNode(t, 6)])
  const stateDir = await tmpDir(t)
  const first = new Torrent({ lsd: false, pex: false, natTraversal: false, dht: [boot4.address, boot6.address], stateDir })
  await first.start()
  await until(() => boot4.dht.nodes.toArray().some((n) => n.port === first.dhtPort) && boot6.dht.nodes.toArray().some((n) => n.port === first.dhtPort),
    10_000, 'the first run in both DHTs')
  await first.stop()
  const saved = async (file: string): Promise<string[]> =>
    (JSON.parse(await fs.readFile(path.join(stateDir, file), 'utf8')) as { nodes: Array<{ host: string, port: number }> }).nodes.map((n) => `${n.host}:${n.port}`)
  assert.deepEqual(await saved('dht-nodes.json'), [`127.0.0.1:${boot4.dht.address().port}`])
  assert.deepEqual(await saved('dht-nodes6.json'), [`::1:${boot6.dht.address().port}`])

  // No bootstrap list: only the cache can lead the second run's announce to boot6.
  const second = await client(t, { host: '::1', dht: [], stateDir })
  await second.seed(await draft('cached'))
  await until(() => boot6.dht.nodes.toArray().some((n) => n.port === second.dhtPort), 10_000, 'the second run back in the IPv6 DHT from its cache')
})

test('dht6: false keeps a client out of the IPv6 DHT', async (t) => {
  const [boot4, boot6] = await Promise.all([bootNode(t, 4), bootNode(t, 6)])
  const c = await client(t, { dht: [boot4.address, boot6.address], dht6: false })
  await until(() => boot4.dht.nodes.toArray().some((n) => n.port === c.dhtPort), 10_000, 'the client in the IPv4 DHT')
  // A lookup walks the IPv6 DHT if there is a node of ours in it: there is none to walk.
  await new Promise<void>((resolve) => boot6.dht.lookup(Buffer.alloc(20, 1), () => resolve()))
  assert.equal(boot6.dht.nodes.count(), 0)
})

test('the IPv6 node takes any port when its IPv4 sibling\'s number is taken on udp6', async (t) => {
  const taken = dgram.createSocket({ type: 'udp6', ipv6Only: true })
  await new Promise<void>((resolve) => taken.bind(0, '::', () => resolve()))
  t.after(() => new Promise<void>((resolve) => taken.close(() => resolve())))
  const port = taken.address().port
  const dht = new DhtFamilies({ bootstrap: [], port, peerPort: 7001, onPeer: () => {} })
  t.after(() => dht.close())
  // The IPv4 node binds the number (udp4 is free), the IPv6 one cannot.
  assert.equal(await dht.start(), port)
  assert.ok(dht.portOf(6) > 0 && dht.portOf(6) !== port, `IPv6 node at ${dht.portOf(6)}`)
})

test('an IPv6 host this machine does not have fails start() when the IPv6 node is the only one', async (t) => {
  const dht = new DhtFamilies({ bootstrap: [], port: 0, host: '2001:db8::1', peerPort: 7001, onPeer: () => {} })
  t.after(() => dht.close())
  await assert.rejects(dht.start(), { code: 'EADDRNOTAVAIL' })
})

/** A stand-in node that answers every get with `item` and every put with `stored` (and `err`). */
function fakeNode (item: DhtItem | null, stored = 0, err: Error | null = null): JoinableDht & EventEmitter {
  return Object.assign(new EventEmitter(), {
    nodes: { count: () => 1 },
    get: (_target: Buffer, _opts: unknown, cb: (err: Error | null, item?: DhtItem | null) => void) => setImmediate(() => cb(null, item)),
    put: (_opts: unknown, cb: (err: Error | null, target: Buffer, responses: number) => void) => setImmediate(() => cb(err, Buffer.alloc(20, 9), stored))
  })
}

test('a get over both families takes the highest seq whose signature holds; a put counts every node that stored it', async () => {
  await loadEd25519()
  const { publicKey, privateKey } = await createKeypair()
  const item = (seq: number, forged = false): DhtItem => {
    const v = { ih: Buffer.alloc(20, seq) }
    const sig = sign(signedData({ seq, v }), privateKey)
    if (forged) sig[0]! ^= 1
    return { v, seq, k: publicKey, sig }
  }
  const get = (dht: JoinableDht): Promise<DhtItem | null | undefined> => new Promise((resolve, reject) =>
    dht.get(Buffer.alloc(20), { verify }, (err, found) => err !== null ? reject(err) : resolve(found)))
  assert.equal((await get(eitherFamily([fakeNode(item(5)), fakeNode(item(9, true))])))?.seq, 5, 'a forged higher seq loses')
  assert.equal((await get(eitherFamily([fakeNode(item(5)), fakeNode(item(7))])))?.seq, 7)
  assert.equal((await get(eitherFamily([fakeNode(null), fakeNode(item(3))])))?.seq, 3)
  assert.equal(await get(eitherFamily([fakeNode(null), fakeNode(null)])), null)

  const put = (dht: JoinableDht): Promise<{ err: Error | null, stored: number }> => new Promise((resolve) =>
    dht.put({ k: publicKey, v: { ih: Buffer.alloc(20) }, seq: 1, sign: () => Buffer.alloc(64) }, (err, _target, stored) => resolve({ err, stored })))
  assert.deepEqual(await put(eitherFamily([fakeNode(null, 0, new Error('refused')), fakeNode(null, 3)])), { err: null, stored: 3 })
  const none = await put(eitherFamily([fakeNode(null, 0, new Error('refused')), fakeNode(null, 0)]))
  assert.equal(none.stored, 0)
  assert.equal(none.err?.message, 'refused')
})

test('waiting for a node over both families: the first node of either ends the wait, once', () => {
  const [a, b] = [fakeNode(null), fakeNode(null)]
  const both = eitherFamily([a, b])
  let calls = 0
  both.once('node', () => calls++)
  b.emit('node')
  a.emit('node')
  assert.equal(calls, 1)
  assert.equal(a.listenerCount('node') + b.listenerCount('node'), 0, 'no listener left behind')
})
