import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { bep42NodeId, crc32c, isBep42Exempt, isBep42Valid } from '../../lib/discovery/bep42.js'
import { admission, RateLimiter } from '../../lib/discovery/dht-guard.js'
import { ExternalAddressVote, VOTES_NEEDED, reportedAddress } from '../../lib/discovery/dht-identity.js'
import bencode from 'bencode'
import { isIPv6 } from 'node:net'

const RUNS = { numRuns: 500, interruptAfterTimeLimit: 30_000 }

/** BEP42's table of example ids: (address, random byte, id). */
const VECTORS: Array<[string, number, string]> = [
  ['124.31.75.21', 1, '5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'],
  ['21.75.31.124', 86, '5a3ce9c14e7a08645677bbd1cfe7d8f956d53256'],
  ['65.23.51.170', 22, 'a5d43220bc8f112a3d426c84764f8c2a1150e616'],
  ['84.124.73.14', 65, '1b0321dd1bb1fe518101ceef99462b947a01ff41'],
  ['43.213.53.83', 90, 'e56f6cbf5b7c4be0237986d5243b87aa6d51305a']
]

const publicIPv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255))
  .map((b) => b.join('.'))
  .filter((ip) => !isBep42Exempt(ip))

test('crc32c is the Castagnoli checksum (its standard check value)', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
})

test('BEP42 test vectors: each id is valid for its address, and derived from its random bits', () => {
  for (const [ip, rand, hex] of VECTORS) {
    const id = Buffer.from(hex, 'hex')
    assert.equal(id[19], rand)
    assert.ok(isBep42Valid(ip, id), `${hex} is valid for ${ip}`)
    // The id's own free bits as the random input give back the id itself.
    assert.deepEqual(bep42NodeId(ip, id), id)
    // And it is not valid for the other addresses of the table.
    for (const [other] of VECTORS) if (other !== ip) assert.ok(!isBep42Valid(other, id), `${hex} is not valid for ${other}`)
  }
})

test('a derived id is valid for its address, and no longer once any of its first 21 bits flips', () => {
  fc.assert(fc.property(publicIPv4, fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(20), (ip, random, bit) => {
    const id = bep42NodeId(ip, random)!
    assert.ok(isBep42Valid(ip, id))
    assert.ok(isBep42Valid(`::ffff:${ip}`, id), 'an IPv4-mapped address is the same address')
    const flipped = Buffer.from(id)
    flipped[bit >> 3]! ^= 0x80 >> (bit & 7)
    assert.ok(!isBep42Valid(ip, flipped))
  }), RUNS)
})

test('BEP42 exempts local IPv4 ranges only, and has no ids for what is not an IP address', () => {
  for (const ip of ['10.1.2.3', '127.0.0.2', '172.16.0.1', '172.31.255.1', '192.168.1.1', '169.254.3.4']) assert.ok(isBep42Exempt(ip), ip)
  for (const ip of ['172.32.0.1', '11.0.0.1', '192.169.0.1', '8.8.8.8', '::1']) assert.ok(!isBep42Exempt(ip), ip)
  for (const host of ['example.org', '', '1.2.3', '2001:db8::1::2']) {
    assert.equal(bep42NodeId(host), null, host)
    assert.ok(!isBep42Valid(host, randomBytes(20)), host)
  }
})

/**
 * BEP42's reference code, transcribed for IPv6 as the BEP gives it (mask 01 03 07 0f 1f 3f 7f ff
 * over the first 8 bytes, `r` in the top 3 bits of the first, crc32c, 21 bits of it kept), apart
 * from bep42.ts so that the two can disagree.
 */
function referenceV6 (address: Buffer, r: number): number {
  const v6Mask = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff]
  const ip = Buffer.alloc(8)
  for (let i = 0; i < 8; i++) ip[i] = address[i]! & v6Mask[i]!
  ip[0]! |= (r & 0x7) << 5
  return crc32c(ip)
}

const globalIPv6 = fc.tuple(fc.integer({ min: 0x2000, max: 0x3fff }), fc.array(fc.nat(0xffff), { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => [first, ...rest].map((g) => g.toString(16)).join(':'))

function bytesOf (ip: string): Buffer {
  const out = Buffer.alloc(16)
  ip.split(':').forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

test('BEP42 for IPv6: a derived id carries the reference prefix of its /64, and no other', () => {
  fc.assert(fc.property(globalIPv6, fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(20), fc.nat(0xffff), (ip, random, bit, group) => {
    const id = bep42NodeId(ip, random)!
    const crc = referenceV6(bytesOf(ip), id[19]!)
    assert.equal(id[0], crc >>> 24)
    assert.equal(id[1], (crc >>> 16) & 0xff)
    assert.equal(id[2]! & 0xf8, (crc >>> 8) & 0xf8)
    assert.deepEqual(id.subarray(3), Buffer.from(random.subarray(3)), 'the free bits are the random ones')
    assert.ok(isBep42Valid(ip, id))
    // The last 64 bits (the interface id) take no part: any address of the /64 has the same ids.
    const groups = ip.split(':')
    groups[7] = group.toString(16)
    assert.ok(isBep42Valid(groups.join(':'), id))
    const flipped = Buffer.from(id)
    flipped[bit >> 3]! ^= 0x80 >> (bit & 7)
    assert.ok(!isBep42Valid(ip, flipped))
  }), RUNS)
  // Compressed and full notation are one address; bits the mask drops do not count.
  const id = bep42NodeId('2001:db8::1', Buffer.alloc(20))!
  assert.ok(isBep42Valid('2001:0db8:0000:0000:0000:0000:0000:0001', id))
  assert.ok(isBep42Valid('2001:db8:0:0:ffff::7', id))
  assert.ok(isBep42Valid('3001:db8::1', id), 'the first byte keeps only its low bit')
  assert.ok(!isBep42Valid('2001:db9::1', id), 'the fourth byte keeps its low 4 bits')
  // IPv4 and IPv6 ids of a machine differ: the same id is not valid for both.
  assert.ok(!isBep42Valid('124.31.75.21', bep42NodeId('2001:db8::1', Buffer.from(VECTORS[0]![2], 'hex'))!))
})

test('admission: one node per public address, BEP42 ids when enforced, exempt addresses pass', () => {
  const enforced = { exempt: isBep42Exempt, enforceNodeId: true }
  const lax = { exempt: isBep42Exempt, enforceNodeId: false }
  fc.assert(fc.property(publicIPv4, fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ minLength: 20, maxLength: 20 }), (ip, a, b) => {
    const valid = bep42NodeId(ip, a)!
    const other = bep42NodeId(ip, b)!
    assert.equal(admission({ host: ip, id: valid }, undefined, enforced), null)
    assert.equal(admission({ host: ip, id: valid }, valid, enforced), null, 'the node the table holds may be updated')
    if (!other.equals(valid)) assert.equal(admission({ host: ip, id: other }, valid, enforced), 'sameAddress')
    // A random id is valid for a given address with odds 2^-21: flip one prefix bit instead.
    const invalid = Buffer.from(valid)
    invalid[0]! ^= 1
    assert.equal(admission({ host: ip, id: invalid }, undefined, enforced), 'badNodeId')
    assert.equal(admission({ host: ip, id: invalid }, undefined, lax), null)
    assert.equal(admission({ host: '127.0.0.1', id: invalid }, valid, enforced), null, 'loopback is exempt')
  }), RUNS)
})

test('the rate limiter lets exactly `burst` packets of each source through a stopped clock, and forgets the oldest sources', () => {
  fc.assert(fc.property(fc.array(fc.nat(30), { maxLength: 400 }), fc.integer({ min: 1, max: 10 }), (sources, burst) => {
    const limiter = new RateLimiter(burst, 1, () => 0, 1000)
    const passed = new Map<number, number>()
    for (const s of sources) if (limiter.allow(`10.0.0.${s}`)) passed.set(s, (passed.get(s) ?? 0) + 1)
    for (const s of new Set(sources)) assert.equal(passed.get(s), Math.min(burst, sources.filter((x) => x === s).length))
  }), RUNS)
  let now = 0
  const limiter = new RateLimiter(1, 1, () => now, 2)
  assert.ok(limiter.allow('a'))
  assert.ok(!limiter.allow('a'))
  now = 1000
  assert.ok(limiter.allow('a'), 'one token a second')
  assert.ok(!limiter.allow('a'))
  assert.ok(limiter.allow('b'))
  assert.ok(limiter.allow('c'), 'a third source: "a" is forgotten')
  assert.ok(limiter.allow('a'), '"a" starts again with a full bucket')
})

test('the IPv6 external address: voters counted by /64, only a global unicast address believed', () => {
  const changes: string[] = []
  const vote = new ExternalAddressVote((ip) => changes.push(ip), 6)
  for (let i = 0; i < 2 * VOTES_NEEDED; i++) vote.add('2001:db8:5::7', `2a00:1:2:3::${i}`)
  assert.deepEqual(changes, [], 'voters of one /64 are one vote')
  for (const local of ['fd00::1', 'fe80::1', '::1', '::ffff:8.8.8.8', '8.8.8.8', 'ff02::1']) {
    for (let i = 0; i < VOTES_NEEDED; i++) vote.add(local, `2a00:${i}::1`)
  }
  assert.deepEqual(changes, [], 'no local, mapped, IPv4 or multicast address')
  for (let i = 1; i < VOTES_NEEDED; i++) vote.add('2001:db8:5::7', `2a00:1:2:${i + 3}::1`)
  assert.deepEqual(changes, ['2001:db8:5::7'])
  assert.equal(new ExternalAddressVote(() => {}).address, null)
})

test('the external address is believed once distinct addresses agree, never for a local one', () => {
  const changes: string[] = []
  const vote = new ExternalAddressVote((ip) => changes.push(ip))
  for (let i = 0; i < VOTES_NEEDED - 1; i++) vote.add('8.8.8.8', '9.9.9.9')
  vote.add('192.168.1.2', '9.9.9.1')
  for (let i = 1; i < VOTES_NEEDED - 1; i++) vote.add('8.8.8.8', `9.9.9.${i}`)
  assert.deepEqual(changes, [], 'one voter repeated is one vote')
  vote.add('8.8.8.8', '9.9.9.200')
  assert.deepEqual(changes, ['8.8.8.8'])
  assert.equal(vote.address, '8.8.8.8')
  for (let i = 0; i < VOTES_NEEDED; i++) vote.add('192.168.1.2', `9.9.8.${i}`)
  assert.deepEqual(changes, ['8.8.8.8'], 'a local address is never ours to derive an id from')
})

test('reportedAddress reads BEP42\'s ip of a response and never throws on other bytes', () => {
  const ip = Buffer.from([124, 31, 75, 21, 0x1a, 0xe1])
  assert.equal(reportedAddress(Buffer.from(bencode.encode({ t: 'aa', y: 'r', r: { id: randomBytes(20) }, ip }))), '124.31.75.21')
  assert.equal(reportedAddress(Buffer.from(bencode.encode({ t: 'aa', y: 'q', q: 'ping', a: { id: randomBytes(20) }, ip }))), null, 'a query reports nothing')
  assert.equal(reportedAddress(Buffer.from(bencode.encode({ t: 'aa', y: 'r', r: {}, ip: ip.subarray(0, 5) }))), null)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(200), (bytes, at) => {
    for (const field of ['2:ip6:', '2:ip18:']) {
      const withField = Buffer.concat([Buffer.from(bytes.subarray(0, at)), Buffer.from(field), Buffer.from(bytes.subarray(at))])
      const got = reportedAddress(withField)
      assert.ok(got === null || /^\d+\.\d+\.\d+\.\d+$/.test(got) || isIPv6(got), got ?? '')
    }
  }), RUNS)
  const ip6 = Buffer.concat([Buffer.from('20010db8000000000000000000000005', 'hex'), Buffer.from([0x1a, 0xe1])])
  assert.equal(reportedAddress(Buffer.from(bencode.encode({ t: 'aa', y: 'r', r: { id: randomBytes(20) }, ip: ip6 }))), '2001:db8::5')
})
