import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import bencode from 'bencode'
import fc from 'fast-check'
import { TrackerlessError } from '../../lib/errors.js'
import { decodePexMessage, encodePexMessage, MAX_PEX_MESSAGE, PEX_FLAGS, type PexEntry } from '../../lib/wire/ut-pex.js'

const RUNS = 300

describe('ut_pex codec', () => {
  it('round-trips IPv4 and IPv6 peers with their flags, and dropped peers', () => {
    const added: PexEntry[] = [
      { host: '10.0.0.1', port: 6881, flags: PEX_FLAGS.seed | PEX_FLAGS.reachable },
      { host: '2001:db8::7', port: 51413, flags: PEX_FLAGS.utp },
      { host: '::ffff:1.2.3.4', port: 1, flags: 0 }
    ]
    const dropped = [{ host: '192.168.1.9', port: 80 }, { host: 'fe80::1', port: 443 }]
    const out = decodePexMessage(encodePexMessage({ added, dropped }))
    assert.deepEqual(out.added, [added[0], added[1], { host: '::ffff:102:304', port: 1, flags: 0 }])
    assert.deepEqual(out.dropped, dropped)
  })

  it('uses the BEP11 keys and compact forms', () => {
    const payload = encodePexMessage({ added: [{ host: '1.2.3.4', port: 0x1a2b, flags: 2 }], dropped: [] })
    const dict = bencode.decode(payload) as Record<string, Uint8Array>
    assert.deepEqual(Buffer.from(dict.added!), Buffer.from([1, 2, 3, 4, 0x1a, 0x2b]))
    assert.deepEqual(Buffer.from(dict['added.f']!), Buffer.from([2]))
    assert.equal(dict.added6!.length, 0)
    assert.equal(dict.dropped!.length, 0)
  })

  it('leaves out hosts that are not IP addresses', () => {
    const out = decodePexMessage(encodePexMessage({ added: [{ host: 'example.org', port: 1, flags: 0 }], dropped: [] }))
    assert.deepEqual(out, { added: [], dropped: [] })
  })

  it('forgives odd but harmless input: partial entries, port 0, missing flags and lists, wrong types', () => {
    const payload = Buffer.from(bencode.encode({
      added: Buffer.from([1, 1, 1, 1, 0, 1, 2, 2, 2, 2, 0, 0, 3, 3, 3, 3, 0, 3, 9]),
      'added.f': Buffer.from([0x10]),
      dropped: 5
    }))
    assert.deepEqual(decodePexMessage(payload), {
      added: [{ host: '1.1.1.1', port: 1, flags: 0x10 }, { host: '3.3.3.3', port: 3, flags: 0 }],
      dropped: []
    })
    assert.deepEqual(decodePexMessage(Buffer.from('de')), { added: [], dropped: [] })
  })

  it('keeps at most 200 entries per list from a flood', () => {
    const many = Buffer.alloc(1000 * 6, 1)
    const out = decodePexMessage(Buffer.from(bencode.encode({ added: many, dropped: many })))
    assert.equal(out.added.length, 200)
    assert.equal(out.dropped.length, 200)
  })

  it('rejects malformed bencoding and oversized messages with EPROTO', () => {
    for (const bad of [Buffer.from('d5:added'), Buffer.from('li1ee'), Buffer.from(bencode.encode({ added: Buffer.alloc(MAX_PEX_MESSAGE) }))]) {
      assert.throws(() => decodePexMessage(bad), (err: unknown) => err instanceof TrackerlessError && err.code === 'EPROTO')
    }
  })

  it('round-trips any list of peers (property)', () => {
    const v4 = fc.ipV4().map((host) => host)
    const v6 = fc.ipV6().map((host) => new URL(`http://[${host}]/`).hostname.slice(1, -1))
    const entry = fc.record({ host: fc.oneof(v4, v6), port: fc.integer({ min: 1, max: 65535 }), flags: fc.integer({ min: 0, max: 255 }) })
      .map((e) => ({ ...e }))
    fc.assert(fc.property(fc.array(entry, { maxLength: 50 }), fc.array(entry, { maxLength: 50 }), (added, droppedEntries) => {
      const dropped = droppedEntries.map(({ host, port }) => ({ host, port }))
      const out = decodePexMessage(encodePexMessage({ added, dropped }))
      const byFamily = <T extends { host: string }>(list: T[]): T[] => [...list.filter((p) => !p.host.includes(':')), ...list.filter((p) => p.host.includes(':'))]
      assert.deepEqual(out.added, byFamily(added))
      assert.deepEqual(out.dropped, byFamily(dropped))
    }), { numRuns: RUNS })
  })

  it('never throws anything but EPROTO on arbitrary bytes, and never returns more than 200 per list (property)', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.dictionary(fc.constantFrom('added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6', 'x'),
        fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.integer(), fc.constant(0))).map((d) => bencode.encode(d))
    )
    fc.assert(fc.property(bytes, (raw) => {
      try {
        const out = decodePexMessage(Buffer.from(raw))
        assert.ok(out.added.length <= 200 && out.dropped.length <= 200)
        for (const p of [...out.added, ...out.dropped]) assert.ok(p.port >= 1 && p.port <= 65535)
      } catch (err) {
        assert.ok(err instanceof TrackerlessError && err.code === 'EPROTO', String(err))
      }
    }), { numRuns: RUNS })
  })
})
