import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PeerExchange, type PexPeer } from '../../lib/discovery/pex.js'
import { decodePexMessage, encodePexMessage, MAX_PEX_PEERS, type PexEntry } from '../../lib/wire/ut-pex.js'

interface FakePeer extends PexPeer { sent: Buffer[] }

function peer (address: string, outgoing: boolean, remoteAddress: string): FakePeer {
  const sent: Buffer[] = []
  return {
    address,
    outgoing,
    isSeed: false,
    sent,
    wire: {
      remoteAddress,
      peerExtensions: { m: { ut_pex: 1 }, p: 7000 },
      sendExtended: (_name, payload) => { sent.push(payload); return true }
    }
  }
}

test('PEX tells an IPv4 peer of an IPv6 one in added6, and an IPv6 peer of an IPv4 one in added', (t) => {
  const pex = new PeerExchange<FakePeer>({ connect: () => {}, isSeed: () => false })
  t.after(() => pex.close())
  const v6 = peer('[2001:db8::5]:6881', true, '2001:db8::5')
  const v4 = peer('192.0.2.7:6881', true, '192.0.2.7')
  pex.add(v6)
  pex.add(v4)
  pex.onExtendedHandshake(v4)
  pex.onExtendedHandshake(v6)
  assert.deepEqual(decodePexMessage(v4.sent[0]!).added, [{ host: '2001:db8::5', port: 6881, flags: 0x10 }])
  assert.deepEqual(decodePexMessage(v6.sent[0]!).added, [{ host: '192.0.2.7', port: 6881, flags: 0x10 }])
})

test('an incoming IPv6 peer is advertised at its address with the port of its handshake', (t) => {
  const pex = new PeerExchange<FakePeer>({ connect: () => {}, isSeed: () => false })
  t.after(() => pex.close())
  const incoming = peer('[2001:db8::9]:40000', false, '2001:db8::9')
  pex.add(incoming)
  pex.onExtendedHandshake(incoming)
  assert.equal(pex.addressOf(incoming), '[2001:db8::9]:7000')
})

test('added6 peers are dialled in brackets, 50 at most; loopback and multicast from a remote peer are not', (t) => {
  const dialled: string[] = []
  const pex = new PeerExchange<FakePeer>({ connect: (a) => dialled.push(a), isSeed: () => false })
  t.after(() => pex.close())
  const from = peer('[2001:db8::1]:6881', true, '2001:db8::1')
  pex.add(from)
  const added: PexEntry[] = [
    { host: '::1', port: 6881, flags: 0 },
    { host: 'ff02::1', port: 6881, flags: 0 },
    ...Array.from({ length: 3 * MAX_PEX_PEERS }, (_, i) => ({ host: `2001:db8::${(i + 0x100).toString(16)}`, port: 6881, flags: 0 }))
  ]
  pex.onMessage(from, encodePexMessage({ added, dropped: [] }))
  assert.equal(dialled.length, MAX_PEX_PEERS - 2, 'of the first 50 entries, the two undialable ones are skipped')
  assert.equal(dialled[0], '[2001:db8::100]:6881')
  assert.ok(dialled.every((a) => /^\[2001:db8::[0-9a-f]+\]:6881$/.test(a)), dialled.join(' '))
})
