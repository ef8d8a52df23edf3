import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { encodeLsdAnnounces, parseLsdAnnounce, MAX_LSD_PACKET } from '../../lib/discovery/lsd-packet.js'

const HASH_A = 'a'.repeat(40)
const HASH_B = '0123456789abcdef0123456789abcdef01234567'

describe('LSD packets', () => {
  it('writes the BEP14 announce and reads it back', () => {
    const [packet, ...rest] = encodeLsdAnnounces('239.192.152.143:6771', 6881, [HASH_A, HASH_B], 'c00k1e')
    assert.equal(rest.length, 0)
    assert.equal(packet!.toString('latin1'),
      'BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n' +
      `Infohash: ${HASH_A}\r\nInfohash: ${HASH_B}\r\ncookie: c00k1e\r\n\r\n\r\n`)
    assert.deepEqual(parseLsdAnnounce(packet!), { port: 6881, infoHashes: [HASH_A, HASH_B], cookie: 'c00k1e' })
  })

  it('splits many infohashes into packets of at most 1400 bytes', () => {
    const hashes = Array.from({ length: 100 }, (_, i) => i.toString(16).padStart(40, '0'))
    const packets = encodeLsdAnnounces('[ff15::efc0:988f]:6771', 65535, hashes, 'x'.repeat(16))
    assert.ok(packets.length > 1)
    const seen: string[] = []
    for (const p of packets) {
      assert.ok(p.length <= MAX_LSD_PACKET)
      seen.push(...parseLsdAnnounce(p)!.infoHashes)
    }
    assert.deepEqual(seen, hashes)
  })

  it('accepts other clients\' spellings: header case, bare \\n, uppercase hex, no cookie', () => {
    const text = `BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nPORT: 51413\nINFOHASH: ${HASH_B.toUpperCase()}\n\n\n`
    assert.deepEqual(parseLsdAnnounce(Buffer.from(text)), { port: 51413, infoHashes: [HASH_B] })
  })

  it('ignores what is not a valid announce', () => {
    const bad = [
      '',
      'M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ' + HASH_A,
      `BT-SEARCH * HTTP/1.1\r\nInfohash: ${HASH_A}\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: ${HASH_A}\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: ${HASH_A}\r\n`,
      `BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: ${HASH_A}\r\n`,
      'BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: abc\r\n',
      `BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: ${HASH_A}\r\n${'x'.repeat(5000)}`
    ]
    for (const text of bad) assert.equal(parseLsdAnnounce(Buffer.from(text)), null, JSON.stringify(text.slice(0, 60)))
  })

  it('round-trips any set of infohashes and ports (property)', () => {
    const hash = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'))
    fc.assert(fc.property(fc.uniqueArray(hash, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 65535 }), (hashes, port) => {
      const got = encodeLsdAnnounces('239.192.152.143:6771', port, hashes, 'abc').map((p) => parseLsdAnnounce(p)!)
      for (const a of got) assert.equal(a.port, port)
      assert.deepEqual(got.flatMap((a) => a.infoHashes), hashes)
    }), { numRuns: 200 })
  })

  it('never throws on arbitrary bytes (property)', () => {
    const header = fc.constantFrom('Port: ', 'Infohash: ', 'cookie: ', 'Host: ', ':', '\r\n', '\n')
    const text = fc.array(fc.oneof(header, fc.string({ maxLength: 50 }), fc.constant(HASH_A)), { maxLength: 40 })
      .map((parts) => Buffer.from('BT-SEARCH * HTTP/1.1\r\n' + parts.join('')))
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), text), (bytes) => {
      const out = parseLsdAnnounce(bytes)
      if (out !== null) {
        assert.ok(out.port >= 1 && out.port <= 65535 && out.infoHashes.length > 0)
        for (const h of out.infoHashes) assert.match(h, /^[0-9a-f]{40}$/)
      }
    }), { numRuns: 500 })
  })
})
