import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { formatMagnet, parseInfoHash, parseMagnet, parsePeerAddress } from '../../lib/metainfo/magnet.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { throwsCode } from '../helpers/errors.js'

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a'
const BASE32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK'
const KEY = 'ab'.repeat(32)

function invalid (fn: () => unknown, message: RegExp): void {
  throwsCode(fn, 'EINVALIDURL', message)
}

test('btih in hex or base32, either case', () => {
  for (const form of [HEX, HEX.toUpperCase(), BASE32, BASE32.toLowerCase()]) {
    assert.equal(parseMagnet(`magnet:?xt=urn:btih:${form}`).infoHash?.toString('hex'), HEX)
    assert.equal(parseInfoHash(form).toString('hex'), HEX)
  }
  assert.equal(parseMagnet(`MAGNET:?XT=URN:BTIH:${HEX}`).infoHash?.toString('hex'), HEX)
})

test('parseInfoHash rejects anything else', () => {
  for (const text of ['', HEX.slice(1), `${HEX}0`, 'g'.repeat(40), BASE32.replace('Y', '1'), ` ${HEX}`]) {
    invalid(() => parseInfoHash(text), /not an infohash: expected 40 hex digits or 32 base32/)
  }
})

test('several xt: btih and btmh (BEP52) are both read, unknown ones ignored', () => {
  const link = parseMagnet(`magnet:?xt=urn:btmh:1220${'ab'.repeat(32)}&xt=urn:btih:${HEX}&xt.2=urn:btih:${BASE32}&xt.3=urn:btmh:1114${'00'.repeat(20)}&tr=http%3A%2F%2Ft.invalid`)
  assert.equal(link.infoHash?.toString('hex'), HEX)
  assert.equal(link.infoHashV2?.toString('hex'), 'ab'.repeat(32))
  assert.equal(formatMagnet(link), `magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:1220${'ab'.repeat(32)}`)
  const v2only = parseMagnet(`magnet:?xt=urn:btmh:1220${'CD'.repeat(32)}`)
  assert.equal(v2only.infoHash, undefined)
  assert.equal(v2only.infoHashV2?.toString('hex'), 'cd'.repeat(32))
  invalid(() => parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'0'.repeat(40)}`), /two different infohashes/)
  invalid(() => parseMagnet(`magnet:?xt=urn:btmh:1220${'00'.repeat(32)}&xt=urn:btmh:1220${'01'.repeat(32)}`), /two different v2 infohashes/)
  invalid(() => parseMagnet(`magnet:?xt=urn:btmh:1220${'00'.repeat(31)}`), /1220 and 64 hex digits/)
  invalid(() => parseMagnet(`magnet:?xt=urn:btmh:1114${'00'.repeat(20)}`), /neither xt=urn:btih: nor xt=urn:btmh: nor xs=urn:btpk:/)
  invalid(() => parseMagnet('magnet:?xt=urn:btih:1234'), /does not end in 40 hex digits/)
})

test('dn decodes %-escapes and +', () => {
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=My+Site%20%C3%A9%2B`).name, 'My Site é+')
  invalid(() => parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`), /broken %-escape/)
})

test('x.pe: IPv4, host names and bracketed IPv6, repeated', () => {
  const link = parseMagnet(`magnet:?xt=urn:btih:${HEX}&x.pe=127.0.0.1:6881&x.pe=[::1]:1&x.pe=peer.example.org:65535&x.pe=%5B2001%3Adb8%3A%3A1%5D%3A80`)
  assert.deepEqual(link.peers, ['127.0.0.1:6881', '[::1]:1', 'peer.example.org:65535', '[2001:db8::1]:80'])
  assert.deepEqual(parsePeerAddress('[::1]:6881'), { host: '::1', port: 6881 })
  for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:6881', '[::1]', '[nope]:1', 'a_b:1', ':1', '1.2.3.4:+1', 'host:1e3']) {
    invalid(() => parseMagnet(`magnet:?xt=urn:btih:${HEX}&x.pe=${encodeURIComponent(bad)}`), /peer address .* is not valid/)
  }
})

test('so: indices and ranges, merged, sorted and bounded', () => {
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=0,2,4-6`).select, [0, 2, 4, 5, 6])
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=5,1-2&so=2,0`).select, [0, 1, 2, 5])
  assert.equal(parseMagnet(`magnet:?xt=urn:btih:${HEX}`).select, undefined)
  // Tolerant as libtorrent: bad items are skipped, an so= with other characters is ignored.
  const select = (so: string): number[] | undefined => parseMagnet(`magnet:?xt=urn:btih:${HEX}&so=${so}`).select
  assert.deepEqual(select('6-4,1'), [1], 'a backward range is skipped')
  assert.deepEqual(select('1,,2,-1,3-,-'), [1, 2])
  assert.deepEqual(select('0-100000,7'), [7], 'a range past the 100000 files a torrent may hold is skipped')
  assert.deepEqual(select('99999999999999999999,4'), [4])
  assert.equal(select('x,1'), undefined, 'an so= with other characters is ignored')
  assert.deepEqual(select(''), [])
  assert.equal(select('0-99999')?.length, 100000)
  const many = select(`${'0-99999,'.repeat(1000)}0`)
  assert.equal(many?.length, 100000, 'repeating a range expands nothing more')
  const spent = select('5-99999,0-99999,1')!
  assert.deepEqual([spent.length, spent[0], spent[1]], [99996, 1, 5], 'the budget is spent in link order: 0-99999 no longer fits, 1 does')
})

test('xs=urn:btpk with a salt (BEP46)', () => {
  const link = parseMagnet(`magnet:?xs=urn:btpk:${KEY}&s=0a0B`)
  assert.equal(link.publicKey?.toString('hex'), KEY)
  assert.deepEqual(link.salt, Buffer.from([10, 11]))
  assert.equal(link.infoHash, undefined)
  assert.equal(parseMagnet(`magnet:?xs=http%3A%2F%2Fx.invalid%2Fa.torrent&xt=urn:btih:${HEX}`).publicKey, undefined)
  invalid(() => parseMagnet(`magnet:?xs=urn:btpk:${KEY.slice(2)}`), /64-hex-digit public key/)
  invalid(() => parseMagnet(`magnet:?xs=urn:btpk:${KEY}&s=abc`), /salt\) must be hex digits/)
  invalid(() => parseMagnet(`magnet:?xs=urn:btpk:${KEY}&s=${'00'.repeat(65)}`), /longer than 64 bytes/)
  assert.equal(parseMagnet(`magnet:?xs=urn:btpk:${KEY}&s=${'00'.repeat(64)}`).salt?.length, 64)
})

test('errors say what a valid link looks like', () => {
  invalid(() => parseMagnet('http://example.org'), /does not start with "magnet:\?".*magnet:\?xt=urn:btih:<40 hex digits>/)
  invalid(() => parseMagnet('magnet:?dn=x'), /neither/)
  invalid(() => parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=${'x'.repeat(300 * 1024)}`), /over the limit/)
})

test('formatMagnet gives the canonical link and round-trips', () => {
  const link = {
    infoHash: asInfoHash(Buffer.from(HEX, 'hex')),
    name: 'a&b=c d/é',
    peers: ['127.0.0.1:6881', '[::1]:7000'],
    select: [6, 0, 1, 2, 4]
  }
  const text = formatMagnet(link)
  assert.equal(text, `magnet:?xt=urn:btih:${HEX}&dn=a%26b%3Dc%20d%2F%C3%A9&x.pe=127.0.0.1:6881&x.pe=[::1]:7000&so=0-2,4,6`)
  assert.deepEqual(parseMagnet(text), { ...link, select: [0, 1, 2, 4, 6] })
  const mutable = formatMagnet({ publicKey: Buffer.from(KEY, 'hex'), salt: Buffer.from('salt'), peers: [] })
  assert.equal(mutable, `magnet:?xs=urn:btpk:${KEY}&s=73616c74`)
  invalid(() => formatMagnet({ peers: [] }), /needs an infohash or a public key/)
  invalid(() => formatMagnet({ publicKey: Buffer.alloc(31), peers: [] }), /32 bytes/)
  invalid(() => formatMagnet({ publicKey: Buffer.alloc(32), peers: ['nope'] }), /peer address/)
  invalid(() => formatMagnet({ publicKey: Buffer.alloc(32), peers: [], name: '\uD800' }), /not valid Unicode/)
  invalid(() => formatMagnet({ publicKey: Buffer.alloc(32), peers: [], select: [100000] }), /out of range/)
})

test('so=: no value fails the link; at most 100000 sorted indices, each below 100000, from the link alone', () => {
  const MAX = 100_000
  const value = fc.oneof(
    fc.string({ unit: fc.constantFrom('0', '1', '9', '-', ',', 'a', ' ', '%', '+', '%2C', '%2'), maxLength: 40 }),
    fc.tuple(fc.nat(3 * MAX), fc.nat(3 * MAX)).map(([a, b]) => `${a}-${b}`),
    fc.array(fc.nat(2 * MAX), { maxLength: 8 }).map((a) => a.join(','))
  )
  fc.assert(fc.property(fc.array(value, { maxLength: 5 }), (values) => {
    const link = parseMagnet(`magnet:?xt=urn:btih:${HEX}${values.map((v) => `&so=${v}`).join('')}`)
    const select = link.select ?? []
    assert.ok(select.length <= MAX)
    for (let i = 0; i < select.length; i++) {
      assert.ok(Number.isInteger(select[i]) && select[i]! >= 0 && select[i]! < MAX)
      if (i > 0) assert.ok(select[i]! > select[i - 1]!, 'sorted, no repeats')
    }
  }), { numRuns: 300 })
})
