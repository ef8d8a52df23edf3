import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PeerExchange, type PexPeer } from '../../lib/discovery/pex.js'
import { decodePexMessage, encodePexMessage, PEX_FLAGS } from '../../lib/wire/ut-pex.js'

interface FakePeer extends PexPeer { sent: Buffer[] }

function peer (address: string, state: { isSeed?: boolean, uploadOnly?: boolean } = {}): FakePeer {
  const sent: Buffer[] = []
  return {
    address,
    outgoing: true,
    isSeed: state.isSeed ?? false,
    ...(state.uploadOnly !== undefined ? { uploadOnly: state.uploadOnly } : {}),
    sent,
    wire: {
      remoteAddress: address.split(':')[0],
      peerExtensions: { m: { ut_pex: 1 } },
      sendExtended: (_name, payload) => { sent.push(payload); return true }
    }
  }
}

test('BEP11 flag 0x02 goes to peers that are seeds or said upload_only (BEP21), not to leechers', (t) => {
  const pex = new PeerExchange<FakePeer>({ connect: () => {}, isSeed: () => false })
  t.after(() => pex.close())
  const told = peer('192.0.2.1:6881')
  const others = [peer('192.0.2.2:6881', { isSeed: true }), peer('192.0.2.3:6881', { uploadOnly: true }), peer('192.0.2.4:6881', { uploadOnly: false })]
  for (const p of others) pex.add(p)
  pex.add(told)
  pex.onExtendedHandshake(told)
  const flags = new Map(decodePexMessage(told.sent[0]!).added.map((e) => [`${e.host}:${e.port}`, e.flags & PEX_FLAGS.seed]))
  assert.deepEqual(Object.fromEntries(flags), { '192.0.2.2:6881': PEX_FLAGS.seed, '192.0.2.3:6881': PEX_FLAGS.seed, '192.0.2.4:6881': 0 })
})

test('a client that holds all it wants does not dial peers flagged as seeds; one that lacks pieces dials them', () => {
  for (const complete of [true, false]) {
    const dialled: string[] = []
    const pex = new PeerExchange<FakePeer>({ connect: (a) => dialled.push(a), isSeed: () => complete })
    const from = peer('192.0.2.1:6881')
    pex.add(from)
    pex.onMessage(from, encodePexMessage({
      added: [{ host: '192.0.2.5', port: 6881, flags: PEX_FLAGS.seed }, { host: '192.0.2.6', port: 6881, flags: PEX_FLAGS.reachable }],
      dropped: []
    }))
    pex.close()
    assert.deepEqual(dialled, complete ? ['192.0.2.6:6881'] : ['192.0.2.5:6881', '192.0.2.6:6881'], complete ? 'complete' : 'leeching')
  }
})
