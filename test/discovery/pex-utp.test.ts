import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PeerExchange, type PexPeer } from '../../lib/discovery/pex.js'
import { decodePexMessage, encodePexMessage, PEX_FLAGS } from '../../lib/wire/ut-pex.js'
import type { TransportName } from '../../lib/transport/types.js'

/** A connected peer as PEX sees it; `sent` collects what we send it. */
function peer (address: string, outgoing: boolean, transport: TransportName, sent: Buffer[] = []): PexPeer {
  return {
    address,
    outgoing,
    isSeed: false,
    wire: {
      remoteAddress: address.split(':')[0],
      peerExtensions: { m: { ut_pex: 1 }, p: Number(address.split(':')[1]) },
      transport,
      sendExtended: (_name, payload) => { sent.push(payload); return true }
    }
  }
}

test('PEX flags a peer we are connected to over uTP with 0x04 (as libtorrent), and one over TCP without it', (t) => {
  const pex = new PeerExchange<PexPeer>({ connect: () => {}, isSeed: () => false })
  t.after(() => pex.close())
  const sent: Buffer[] = []
  pex.add(peer('10.0.0.1:6881', true, 'utp'))
  pex.add(peer('10.0.0.2:6881', true, 'tcp'))
  const target = peer('10.0.0.3:6881', true, 'tcp', sent)
  pex.add(target)
  pex.onExtendedHandshake(target)
  assert.equal(sent.length, 1)
  const flags = new Map(decodePexMessage(sent[0]!).added.map((e) => [`${e.host}:${e.port}`, e.flags]))
  assert.equal(flags.get('10.0.0.1:6881')! & PEX_FLAGS.utp, PEX_FLAGS.utp)
  assert.equal(flags.get('10.0.0.2:6881')! & PEX_FLAGS.utp, 0)
})

test('a peer PEX flags as speaking uTP is reported before it is dialled; others are only dialled', (t) => {
  const events: string[] = []
  const pex = new PeerExchange<PexPeer>({ connect: (a) => events.push(`connect ${a}`), isSeed: () => false, speaksUtp: (a) => events.push(`utp ${a}`) })
  t.after(() => pex.close())
  const from = peer('10.0.0.9:6881', true, 'tcp')
  pex.add(from)
  pex.onMessage(from, encodePexMessage({
    added: [{ host: '10.0.0.1', port: 6881, flags: PEX_FLAGS.utp | PEX_FLAGS.reachable }, { host: '10.0.0.2', port: 6881, flags: PEX_FLAGS.reachable }],
    dropped: []
  }))
  assert.deepEqual(events, ['utp 10.0.0.1:6881', 'connect 10.0.0.1:6881', 'connect 10.0.0.2:6881'])
})
