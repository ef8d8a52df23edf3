import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ipFromBytes, ipToBytes, ipToCompact } from '../../lib/wire/compact-ip.js'
import { decodeExtendedHandshake, encodeExtendedHandshake, ipv6Field, ipv6Hint, youripField } from '../../lib/wire/extended.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import { RawPeer, scene } from '../hostile/raw-peer.js'

describe('BEP7 addresses in the extended handshake', () => {
  it('yourip is 4 bytes for an IPv4 peer, also one reported IPv4-mapped, and 16 for an IPv6 one', () => {
    assert.deepEqual(youripField('10.1.2.3').yourip, Buffer.from([10, 1, 2, 3]))
    assert.deepEqual(youripField('::ffff:10.1.2.3').yourip, Buffer.from([10, 1, 2, 3]))
    assert.deepEqual(youripField('::ffff:a01:203').yourip, Buffer.from([10, 1, 2, 3]))
    assert.deepEqual(youripField('::1').yourip, Buffer.from([...new Array<number>(15).fill(0), 1]))
    assert.deepEqual(youripField('2001:db8::7').yourip, Buffer.from('20010db8000000000000000000000007', 'hex'))
    assert.deepEqual(youripField(undefined), {})
    assert.deepEqual(youripField('peer.example'), {})
  })

  it('ipv6 is ours, told only to a peer that reached us over IPv4, and read back only from one, only a global unicast address', () => {
    const ours = Buffer.from('20010db8000000000000000000000005', 'hex')
    assert.deepEqual(ipv6Field('10.1.2.3', '2001:db8::5'), { ipv6: ours })
    assert.deepEqual(ipv6Field('::ffff:10.1.2.3', '2001:db8::5'), { ipv6: ours })
    assert.deepEqual(ipv6Field('2001:db8::9', '2001:db8::5'), {}, 'an IPv6 peer sees our address already')
    assert.deepEqual(ipv6Field('10.1.2.3', null), {})
    assert.deepEqual(ipv6Field(undefined, '2001:db8::5'), {})
    assert.equal(ipv6Hint({ m: {}, ipv6: ours, p: 6881 }, '10.1.2.3'), '[2001:db8::5]:6881')
    assert.equal(ipv6Hint({ m: {}, ipv6: ours }, '10.1.2.3'), null, 'no port, no address')
    assert.equal(ipv6Hint({ m: {}, ipv6: ours, p: 6881 }, '2001:db8::9'), null)
    assert.equal(ipv6Hint(null, '10.1.2.3'), null)
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 65535 }), (bytes, p) => {
      const hint = ipv6Hint({ m: {}, ipv6: Buffer.from(bytes), p }, '10.1.2.3')
      assert.equal(hint !== null, (bytes[0]! & 0xe0) === 0x20, 'loopback, local, multicast, mapped and unspecified addresses are no hint')
      if (hint !== null) assert.ok(net.isIPv6(hint.slice(1, hint.lastIndexOf(']'))))
    }), { numRuns: 300 })
  })

  it('round-trips ipv6 and ipv4, and drops either when it has the wrong length', () => {
    const ipv6 = Buffer.from('20010db8000000000000000000000007', 'hex')
    const ipv4 = Buffer.from([192, 0, 2, 1])
    assert.deepEqual(decodeExtendedHandshake(encodeExtendedHandshake({ m: {}, ipv6, ipv4 })), { m: {}, ipv6, ipv4 })
    const raw = Buffer.from('d4:ipv44:abcd4:ipv65:abcde1:mdee')
    assert.deepEqual(decodeExtendedHandshake(raw), { m: {}, ipv4: Buffer.from('abcd') })
    const wrong = Buffer.from('d4:ipv43:abc4:ipv6i7e1:mdee')
    assert.deepEqual(decodeExtendedHandshake(wrong), { m: {} })
  })

  it('compact addresses round-trip through bytes for any IPv4 or IPv6 address', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = ipFromBytes(bytes, 0, 16)
      assert.ok(net.isIPv6(text))
      assert.deepEqual(ipToBytes(text), Buffer.from(bytes))
    }), { numRuns: 300 })
    fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
      assert.deepEqual(ipToCompact(ipFromBytes(bytes, 0, 4)), Buffer.from(bytes))
    }), { numRuns: 300 })
    for (const bad of ['', '1.2.3', '256.1.1.1', 'a:b:c', '1::2::3', 'host']) assert.equal(ipToBytes(bad), null, bad)
  })

  it('x.pe takes a bracketed IPv6 peer', () => {
    const magnet = parseMagnet('magnet:?xt=urn:btih:' + 'a'.repeat(40) + '&x.pe=' + encodeURIComponent('[2001:db8::1]:6881'))
    assert.deepEqual(magnet.peers, ['[2001:db8::1]:6881'])
  })

  it('a peer on ::1 is told its address as 16 bytes', async (t) => {
    const { seeder, meta } = await scene(t, 64 * 1024, { host: '::1' })
    const peer = new RawPeer(net.connect({ host: '::1', port: seeder.port }), { infoHash: meta.infoHash })
    t.after(() => peer.destroy())
    await peer.next((f) => f.type === 'extended' && f.id === 0, 10_000)
    assert.deepEqual(peer.extensions?.yourip, ipToBytes('::1'))
  })
})
