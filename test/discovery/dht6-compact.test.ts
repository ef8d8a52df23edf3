import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import fc from 'fast-check'
import krpc from 'k-rpc'

const RUNS = { numRuns: 500, interruptAfterTimeLimit: 30_000 }

/** The form node's sockets report an IPv6 address in (inet_ntop), which k-rpc-socket compares with. */
const canonical = (host: string): string => new net.SocketAddress({ address: host, family: 'ipv6' }).address

/** IPv6 addresses that are not IPv4 ones in IPv6 dress (::ffff:a.b.c.d, ::a.b.c.d). */
const ipv6 = fc.ipV6().filter((h) => !canonical(h).includes('.'))
const port = fc.integer({ min: 1, max: 65535 })
const id = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b))

test('38-byte compact IPv6 nodes: parse(encode(nodes)) gives the nodes back, hosts in the sockets\' form', () => {
  fc.assert(fc.property(fc.array(fc.record({ id, host: ipv6, port }), { maxLength: 16 }), (nodes) => {
    const bytes = krpc.encodeNodes(nodes, 20, 6)
    assert.equal(bytes.length, 38 * nodes.length)
    const parsed = krpc.parseNodes(bytes, 20, 6)
    assert.deepEqual(parsed.map((n) => ({ id: n.id, host: n.host, port: n.port })), nodes.map((n) => ({ ...n, host: canonical(n.host) })))
  }), RUNS)
})

test('26-byte compact IPv4 nodes still round-trip; each family leaves the other\'s nodes out', () => {
  fc.assert(fc.property(fc.array(fc.record({ id, host: fc.ipV4(), port }), { maxLength: 16 }), fc.array(fc.record({ id, host: ipv6, port }), { maxLength: 4 }), (v4, v6) => {
    const bytes = krpc.encodeNodes([...v4, ...v6], 20, 4)
    assert.equal(bytes.length, 26 * v4.length)
    assert.deepEqual(krpc.parseNodes(bytes, 20, 4).map((n) => ({ id: n.id, host: n.host, port: n.port })), v4.map((n) => ({ ...n })))
    assert.equal(krpc.encodeNodes([...v4, ...v6], 20, 6).length, 38 * v6.length)
  }), RUNS)
})

test('18-byte compact IPv6 peers (and 6-byte IPv4 ones) round-trip', () => {
  fc.assert(fc.property(fc.oneof(ipv6, fc.ipV4()), port, (host, p) => {
    const ip = krpc.encodeIp(host)!
    const bytes = Buffer.concat([ip, Buffer.from([p >> 8, p & 0xff])])
    assert.equal(bytes.length, net.isIPv6(host) ? 18 : 6)
    assert.deepEqual(krpc.decodeAddress(bytes), { host: net.isIPv6(host) ? canonical(host) : host, port: p })
  }), RUNS)
})

test('garbage of any length is refused without a throw: nodes6 not a whole number of 38 bytes, peers not 6 or 18', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (raw) => {
    const bytes = Buffer.from(raw)
    const nodes = krpc.parseNodes(bytes, 20, 6)
    if (bytes.length % 38 !== 0) assert.deepEqual(nodes, [])
    else assert.ok(nodes.length <= bytes.length / 38 && nodes.every((n) => net.isIPv6(n.host) && n.port > 0))
    const peer = krpc.decodeAddress(bytes)
    if (bytes.length !== 6 && bytes.length !== 18) assert.equal(peer, null)
  }), RUNS)
  for (const notBytes of [undefined, null, 7, 'nodes6', [Buffer.alloc(38)], { length: 38 }]) assert.deepEqual(krpc.parseNodes(notBytes, 20, 6), [])
})

test('a compact IPv6 entry with port 0 or an IPv4 address inside is skipped', () => {
  const entry = (ip: string, p: number): Buffer => Buffer.concat([Buffer.alloc(20, 1), krpc.encodeIp(ip)!, Buffer.from([p >> 8, p & 0xff])])
  const parsed = krpc.parseNodes(Buffer.concat([entry('::ffff:1.2.3.4', 6881), entry('::1.2.3.4', 6881), entry('2001:db8::1', 0), entry('2001:db8::2', 6881)]), 20, 6)
  assert.deepEqual(parsed.map((n) => `${n.host}:${n.port}`), ['2001:db8::2:6881'])
})

test('bootstrap "host:port" parsing knows brackets', () => {
  assert.deepEqual(krpc.parsePeer('[::1]:6881'), { host: '::1', port: 6881 })
  assert.deepEqual(krpc.parsePeer('[2001:DB8:0:0::1]:1'), { host: '2001:db8::1', port: 1 }, 'in the form answers come from')
  assert.deepEqual(krpc.parsePeer('127.0.0.1:6881'), { host: '127.0.0.1', port: 6881 })
  assert.deepEqual(krpc.parsePeer('router.example:6881'), { host: 'router.example', port: 6881 })
})
