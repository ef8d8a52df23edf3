import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import fc from 'fast-check'
import { PortMapper, mapsPortsFor, type PortMapping } from '../../lib/nat/port-mapper.js'
import { decodeReply, encodeMapRequest } from '../../lib/nat/pmp-packet.js'
import { defaultGateway } from '../../lib/nat/gateway.js'
import { TrackerlessError } from '../../lib/errors.js'
import { fakePmp } from '../helpers/fake-pmp.js'
import { scene, RawPeer } from '../hostile/raw-peer.js'
import { tmpDir, until } from '../helpers/fixtures.js'
import fs from 'node:fs/promises'
import path from 'node:path'
import DHT from 'bittorrent-dht'
import { Torrent } from '../../index.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'

function mapper (t: import('node:test').TestContext, port: number, lifetime?: number): PortMapper {
  const m = new PortMapper({ gateway: '127.0.0.1', gatewayPort: port, methods: ['nat-pmp'], ...(lifetime !== undefined ? { lifetime } : {}) })
  t.after(() => m.stop())
  return m
}

test('PortMapper maps the TCP and the UDP port at the ports the router grants, learns the external address, and deletes both at stop', async (t) => {
  const pmp = await fakePmp(t, { shift: 1000, externalAddress: '100.64.0.7' })
  const m = mapper(t, pmp.port)
  const mapped: PortMapping[] = []
  m.on('map', (x) => mapped.push(x))
  await m.start([{ protocol: 'tcp', port: 6881 }, { protocol: 'udp', port: 6882 }])
  assert.deepEqual(mapped.map((x) => [x.protocol, x.internalPort, x.externalPort, x.externalAddress]).sort(),
    [['tcp', 6881, 7881, '100.64.0.7'], ['udp', 6882, 7882, '100.64.0.7']])
  assert.equal(m.externalPort('tcp', 6881), 7881)
  assert.equal(m.externalAddress, '100.64.0.7')
  await m.stop()
  const deletes = pmp.requests.filter((r) => r.lifetime === 0)
  assert.deepEqual(deletes.map((r) => [r.protocol, r.internalPort, r.externalPort]).sort(), [['tcp', 6881, 0], ['udp', 6882, 0]])
  assert.equal(m.externalPort('tcp', 6881), null)
})

test('PortMapper renews a mapping at half its lifetime, asking for the external port it has', async (t) => {
  // The router grants 2 s: the renewal comes 1 s after the mapping.
  const pmp = await fakePmp(t, { shift: 1000, lifetime: 2 })
  const m = mapper(t, pmp.port)
  const mapped: PortMapping[] = []
  m.on('map', (x) => mapped.push(x))
  await m.start([{ protocol: 'tcp', port: 6881 }])
  await once(m, 'map')
  const maps = pmp.requests.filter((r) => r.lifetime !== 0)
  assert.deepEqual(maps.map((r) => [r.internalPort, r.externalPort]), [[6881, 6881], [6881, 7881]], 'the renewal asks for the port granted')
  assert.equal(mapped.length, 2)
})

test('PortMapper reports a router that refuses as a \'fail\' event with EPORTMAP and the reason in RFC 6886\'s words', async (t) => {
  const pmp = await fakePmp(t, { refuse: 2 })
  const m = mapper(t, pmp.port)
  const failed: Array<[TrackerlessError, string, number]> = []
  m.on('fail', (err, protocol, port) => failed.push([err, protocol, port]))
  await m.start([{ protocol: 'tcp', port: 6881 }])
  assert.equal(failed.length, 1)
  assert.equal(failed[0]![0].code, 'EPORTMAP')
  assert.match(failed[0]![0].message, /refused the NAT-PMP request: not authorized or refused/)
  assert.deepEqual(m.current, [])
})

test('PortMapper reports a router that does not answer once for every port, with ETIMEDOUT, after the address request alone', async (t) => {
  const pmp = await fakePmp(t, { silent: true })
  const m = mapper(t, pmp.port)
  const failed: string[] = []
  m.on('fail', (err, protocol) => failed.push(`${protocol} ${err.code}`))
  await m.start([{ protocol: 'tcp', port: 6881 }, { protocol: 'udp', port: 6882 }])
  assert.deepEqual(failed.sort(), ['tcp ETIMEDOUT', 'udp ETIMEDOUT'])
  assert.equal(pmp.requests.length, 0, 'no map request to a router that said nothing')
})

test('PortMapper ignores NAT-PMP replies that do not come from the router\'s port 5351 (a forger on the LAN)', async (t) => {
  const pmp = await fakePmp(t, { shift: 1000 })
  const forger = dgram.createSocket('udp4')
  t.after(() => forger.close())
  await new Promise<void>((resolve) => forger.bind(0, '127.0.0.1', resolve))
  // Before the router answers, the forger tells the client its port is mapped at 1.
  pmp.socket.prependListener('message', (msg, from) => {
    if (msg[1] !== 2) return
    const forged = Buffer.alloc(16)
    forged[1] = 130
    forged.writeUInt16BE(msg.readUInt16BE(4), 8)
    forged.writeUInt16BE(1, 10)
    forged.writeUInt32BE(7200, 12)
    forger.send(forged, from.port, '127.0.0.1')
  })
  const m = mapper(t, pmp.port)
  await m.start([{ protocol: 'tcp', port: 6881 }])
  assert.equal(m.externalPort('tcp', 6881), 7881)
})

test('NAT-PMP replies: any bytes decode to null or to a reply whose fields fit the packet, never a throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
    const reply = decodeReply(bytes)
    if (reply === null) return
    assert.ok(bytes.length >= 8 && bytes[0] === 0 && bytes[1]! >= 128)
    if (reply.op !== 'address' && reply.result === 0) assert.ok(bytes.length >= 16)
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.constantFrom('udp' as const, 'tcp' as const), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.nat(), (protocol, internal, external, lifetime) => {
    const request = encodeMapRequest(protocol, internal, external, lifetime)
    const reply = Buffer.concat([request.subarray(0, 4), Buffer.alloc(4), request.subarray(4)])
    reply[1] = 128 + request[1]!
    assert.deepEqual(decodeReply(reply), { op: protocol, result: 0, epoch: 0, internalPort: internal, externalPort: external, lifetime })
  }))
})

test('the default gateway comes from the kernel\'s routing table; none without a default route', async (t) => {
  const dir = await tmpDir(t)
  const routes = path.join(dir, 'route')
  await fs.writeFile(routes, 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
    'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n')
  assert.equal(await defaultGateway(routes), '192.168.1.1')
  await fs.writeFile(routes, 'Iface\tDestination\tGateway \tFlags\n' + 'eth0\t0001A8C0\t00000000\t0001\n')
  assert.equal(await defaultGateway(routes), null)
  assert.equal(await defaultGateway(path.join(dir, 'absent')), null)
})

test('ports are mapped only for a client bound to all interfaces or to an IPv4 address that is not loopback', () => {
  assert.deepEqual([undefined, '0.0.0.0', '::', '192.168.1.2', '127.0.0.1', '::1', 'fe80::1'].map(mapsPortsFor), [true, true, true, true, false, false, false])
})

test('a client behind a mapping tells peers the mapped port in the extended handshake (p)', async (t) => {
  const pmp = await fakePmp(t, { shift: 1000 })
  const s = await scene(t, 64 * 1024, { natGateway: { host: '127.0.0.1', port: pmp.port } })
  if (s.seeder.nat.externalPort('tcp', s.seeder.port) === null) await once(s.seeder.nat, 'map')
  assert.equal(s.seeder.advertisedPort, s.seeder.port + 1000)
  const raw = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })
  t.after(() => raw.destroy())
  await until(() => raw.extensions !== null, 10_000, "the seeder's extended handshake")
  assert.equal(raw.extensions?.p, s.seeder.port + 1000)
})

test('a client behind a mapping announces the mapped port in the DHT', async (t) => {
  const pmp = await fakePmp(t, { shift: 1000 })
  const boot = new DHT({ bootstrap: false })
  await new Promise<void>((resolve) => boot.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => new Promise<void>((resolve) => boot.destroy(() => resolve())))
  const seeder = new Torrent({ dht: [`127.0.0.1:${boot.address().port}`], lsd: false, pex: false, host: '127.0.0.1', natGateway: { host: '127.0.0.1', port: pmp.port } })
  t.after(() => seeder.stop())
  const mapped = once(seeder.nat, 'map')
  await seeder.start()
  await mapped
  const file = path.join(await tmpDir(t), 'data.bin')
  await fs.writeFile(file, 'hello through the router')
  const infoHash = parseMagnet(await seeder.seed(file)).infoHash!.toString('hex')
  const found = new Set<string>()
  boot.on('peer', (peer: { host: string, port: number }, hash: Buffer) => { if (hash.toString('hex') === infoHash) found.add(`${peer.host}:${peer.port}`) })
  for (let i = 0; i < 50 && found.size === 0; i++) {
    await new Promise<void>((resolve) => boot.lookup(infoHash, () => resolve()))
    if (found.size === 0) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.deepEqual([...found], [`127.0.0.1:${seeder.port + 1000}`])
})
