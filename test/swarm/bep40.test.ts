import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { peerPriority } from '../../lib/swarm/peers/bep40.js'
import { crc32c } from '../../lib/discovery/bep42.js'
import { reportedSelf } from '../../lib/swarm/peers/self.js'
import type { Wire } from '../../lib/wire/wire.js'

const at = (host: string, port = 0): { host: string, port: number } => ({ host, port })
const hash = (hex: string): number => crc32c(Buffer.from(hex, 'hex'))

test('BEP40: the test vectors of the BEP', () => {
  assert.equal(peerPriority(at('123.213.32.10'), at('98.76.54.32')), 0xec2d7224)
  assert.equal(peerPriority(at('123.213.32.10'), at('123.213.32.234')), 0x99568189)
})

test('BEP40: masks by closeness, as libtorrent computes them', () => {
  // The same IP: the two ports, lower first.
  assert.equal(peerPriority(at('230.12.123.3', 0x4d2), at('230.12.123.3', 0x12c)), hash('012c04d2'))
  // One /24: the whole IPs; one /16: the last byte masked; different /16s: the last two.
  assert.equal(peerPriority(at('230.12.123.1', 0x4d2), at('230.12.123.3', 0x12c)), hash('e60c7b01e60c7b03'))
  assert.equal(peerPriority(at('230.12.23.1', 0x4d2), at('230.12.123.3', 0x12c)), hash('e60c1701e60c7b01'))
  assert.equal(peerPriority(at('230.120.23.1', 0x4d2), at('230.12.123.3', 0x12c)), hash('e60c5101e6781501'))
  assert.equal(peerPriority(at('ffff:ffff:ffff:ffff::1', 0x4d2), at('ffff:ffff:ffff:ffff::1', 0x12c)), hash('012c04d2'))
  assert.equal(peerPriority(at('ffff:ffff:ffff:ffff::1', 0x4d2), at('ffff:0fff:ffff:ffff::1', 0x12c)),
    hash('ffff0fff555555550000000000000001' + 'ffffffff555555550000000000000001'))
  // An IPv4-mapped address is its IPv4 address.
  assert.equal(peerPriority(at('::ffff:123.213.32.10'), at('98.76.54.32')), 0xec2d7224)
})

test('BEP40: no priority between a name or another family', () => {
  assert.equal(peerPriority(at('localhost', 1), at('1.2.3.4', 1)), null)
  assert.equal(peerPriority(at('::1', 1), at('1.2.3.4', 1)), null)
})

test('BEP40: both ends compute the same priority', () => {
  const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => at(host, port))
  fc.assert(fc.property(v4, v4, (a, b) => peerPriority(a, b) === peerPriority(b, a)))
})

test('our address for BEP40 is the yourip most peers report, an IPv4-mapped one as IPv4', () => {
  const peer = (ip: number[] | null): { wire: Wire } => ({ wire: { peerExtensions: ip === null ? null : { m: {}, yourip: Buffer.from(ip) } } as unknown as Wire })
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]
  assert.equal(reportedSelf([peer(null)], 6881), null)
  assert.deepEqual(reportedSelf([peer([9, 9, 9, 9]), peer(mapped), peer([1, 2, 3, 4]), peer(null)], 6881), { host: '1.2.3.4', port: 6881 })
  const v6 = [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1]
  assert.deepEqual(reportedSelf([peer(v6)], 1), { host: '2001:db8:0:0:0:0:0:1', port: 1 })
  assert.equal(peerPriority({ host: '2001:db8:0:0:0:0:0:1', port: 1 }, at('2001:db8::1', 2)), peerPriority(at('2001:db8::1', 1), at('2001:db8::1', 2)))
})

test('BEP40: any host text, as peers may hand us, gives a number or null and never throws', () => {
  const host = fc.oneof(fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.domain())
  fc.assert(fc.property(host, host, fc.integer({ min: 0, max: 65535 }), (a, b, port) => {
    const p = peerPriority(at(a, port), at(b, port))
    return p === null || (Number.isInteger(p) && p >= 0 && p <= 0xffffffff)
  }))
})
