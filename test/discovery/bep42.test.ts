import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { bep42NodeId, crc32c, isBep42Exempt, isBep42Valid } from '../../lib/discovery/bep42.js'
import { admission, RateLimiter } from '../../lib/discovery/dht-guard.js'
import { ExternalAddressVote, VOTES_NEEDED, reportedAddress } from '../../lib/discovery/dht-identity.js'
import bencode from 'bencode'

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

test('BEP42 exempts local ranges only, and has no ids for IPv6', () => {
  for (const ip of ['10.1.2.3', '127.0.0.2', '172.16.0.1', '172.31.255.1', '192.168.1.1', '169.254.3.4']) assert.ok(isBep42Exempt(ip), ip)
  for (const ip of ['172.32.0.1', '11.0.0.1', '192.169.0.1', '8.8.8.8', '::1']) assert.ok(!isBep42Exempt(ip), ip)
  assert.equal(bep42NodeId('2001:db8::1'), null)
  assert.ok(!isBep42Valid('2001:db8::1', randomBytes(20)))
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
    const withField = Buffer.concat([Buffer.from(bytes.subarray(0, at)), Buffer.from('2:ip6:'), Buffer.from(bytes.subarray(at))])
    const got = reportedAddress(withField)
    assert.ok(got === null || /^\d+\.\d+\.\d+\.\d+$/.test(got))
  }), RUNS)
})
