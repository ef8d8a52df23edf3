import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ASK_FIRST_BUDGET, Holepunch, HOLEPUNCH_BUDGET, PUNCH_FIRST_MS, RENDEZVOUS_RETRY_MS, type HolepunchPeer } from '../../lib/swarm/holepunch.js'
import { PEX_FLAGS } from '../../lib/wire/ut-pex.js'
import { decodeHolepunch, encodeHolepunch, HOLEPUNCH_ERROR, type HolepunchMessage } from '../../lib/wire/holepunch-message.js'
import type { ExtendedHandshake } from '../../lib/wire/messages.js'

/** A connected peer at `address` (its listen address) that records the holepunch messages it is sent. */
class FakePeer implements HolepunchPeer {
  readonly sent: HolepunchMessage[] = []
  readonly wire: HolepunchPeer['wire']

  constructor (readonly address: string, holepunch = true, remoteAddress = address.slice(0, address.lastIndexOf(':'))) {
    const peerExtensions: ExtendedHandshake = { m: holepunch ? { ut_holepunch: 7 } : { ut_pex: 2 } }
    this.wire = {
      remoteAddress,
      peerExtensions,
      sendExtended: (_name, payload) => {
        this.sent.push(decodeHolepunch(payload)!)
        return true
      }
    }
  }
}

function setup (punch: ((address: string) => void) | null = () => {}): { hp: Holepunch<FakePeer>, peers: Set<FakePeer>, clock: { now: number }, punched: string[], direct: string[] } {
  const peers = new Set<FakePeer>()
  const clock = { now: 1_000_000 }
  const punched: string[] = []
  const direct: string[] = []
  const hp = new Holepunch<FakePeer>({
    peers,
    addressOf: (peer) => peer.address,
    punch: punch === null ? null : (address) => { punched.push(address); punch(address) },
    dialDirect: (address) => direct.push(address),
    now: () => clock.now
  })
  return { hp, peers, clock, punched, direct }
}

const rendezvous = (host: string, port: number): Buffer => encodeHolepunch({ type: 'rendezvous', host, port, error: 0 })

describe('BEP55 relay', () => {
  it('sends connect(target) to the initiator and connect(initiator) to the target', () => {
    const { hp, peers } = setup()
    const a = new FakePeer('100.64.0.10:6881')
    const b = new FakePeer('100.64.0.101:51413')
    peers.add(a).add(b)
    hp.onMessage(a, rendezvous('100.64.0.101', 51413))
    assert.deepEqual(a.sent, [{ type: 'connect', host: '100.64.0.101', port: 51413, error: 0 }])
    assert.deepEqual(b.sent, [{ type: 'connect', host: '100.64.0.10', port: 6881, error: 0 }])
    assert.equal(hp.stats.relayed, 1)
  })

  it('answers with the error that says why it cannot relay', () => {
    const { hp, peers } = setup()
    const a = new FakePeer('100.64.0.10:6881')
    const old = new FakePeer('100.64.0.20:6881', false)
    peers.add(a).add(old)
    const cases: Array<[Buffer, number]> = [
      [rendezvous('100.64.0.99', 1), HOLEPUNCH_ERROR.notConnected],
      [rendezvous('100.64.0.20', 6881), HOLEPUNCH_ERROR.noSupport],
      [rendezvous('100.64.0.10', 6881), HOLEPUNCH_ERROR.noSelf],
      [rendezvous('100.64.0.20', 0), HOLEPUNCH_ERROR.noSuchPeer],
      [rendezvous('224.0.0.1', 6881), HOLEPUNCH_ERROR.noSuchPeer]
    ]
    for (const [payload] of cases) hp.onMessage(a, payload)
    assert.deepEqual(a.sent.map((m) => [m.type, m.error]), cases.map(([, code]) => ['error', code]))
    assert.deepEqual(old.sent, [], 'the target that does not speak ut_holepunch hears nothing')
    assert.equal(hp.stats.relayed, 0)
  })

  it(`handles at most ${HOLEPUNCH_BUDGET} messages a minute from one peer and drops the rest unanswered (no reflector)`, () => {
    const { hp, peers, clock } = setup()
    const a = new FakePeer('100.64.0.10:6881')
    const b = new FakePeer('100.64.0.101:51413')
    peers.add(a).add(b)
    for (let i = 0; i < HOLEPUNCH_BUDGET + 30; i++) hp.onMessage(a, rendezvous('100.64.0.101', 51413))
    assert.equal(b.sent.length, HOLEPUNCH_BUDGET, 'the target was told of the initiator once per message within the budget only')
    assert.equal(a.sent.length, HOLEPUNCH_BUDGET)
    for (let i = 0; i < 5; i++) hp.onMessage(a, rendezvous('100.64.0.77', 1))
    assert.equal(a.sent.length, HOLEPUNCH_BUDGET, 'errors are not answered past the budget either')
    clock.now += 60_000
    hp.onMessage(a, rendezvous('100.64.0.101', 51413))
    assert.equal(b.sent.length, HOLEPUNCH_BUDGET + 1, 'a minute later the peer has a new budget')
  })

  it('ignores malformed messages', () => {
    const { hp, peers } = setup()
    const a = new FakePeer('100.64.0.10:6881')
    peers.add(a)
    hp.onMessage(a, Buffer.from([9, 9, 9]))
    hp.onMessage(a, Buffer.alloc(0))
    assert.deepEqual(a.sent, [])
  })
})

describe('BEP55 initiator and target', () => {
  it('asks the peer that introduced an address we could not dial, once a minute at most', () => {
    const { hp, peers, clock } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    hp.introduced('100.64.0.101:40000', relay)
    assert.equal(hp.failed('100.64.0.101:40000'), true)
    assert.deepEqual(relay.sent, [{ type: 'rendezvous', host: '100.64.0.101', port: 40000, error: 0 }])
    assert.equal(hp.failed('100.64.0.101:40000'), false, 'not again right away')
    assert.equal(hp.failed('100.64.0.55:1'), false, 'nobody introduced it')
    clock.now += RENDEZVOUS_RETRY_MS
    assert.equal(hp.failed('100.64.0.101:40000'), true)
    // An error answer lets us ask again at the next failure.
    hp.onMessage(relay, encodeHolepunch({ type: 'error', host: '100.64.0.101', port: 40000, error: HOLEPUNCH_ERROR.notConnected }))
    assert.equal(hp.failed('100.64.0.101:40000'), true)
    assert.equal(hp.stats.rendezvousSent, 3)
  })

  it('asks nobody when the introducer left, does not speak ut_holepunch, or uTP is off', () => {
    const gone = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    gone.hp.introduced('100.64.0.101:40000', relay)
    assert.equal(gone.hp.failed('100.64.0.101:40000'), false, 'not connected')
    gone.peers.add(relay)
    gone.hp.remove(relay)
    assert.equal(gone.hp.failed('100.64.0.101:40000'), false, 'removed: it introduces nobody any more')

    const old = setup()
    const noSupport = new FakePeer('100.64.0.4:6881', false)
    old.peers.add(noSupport)
    old.hp.introduced('100.64.0.101:40000', noSupport)
    assert.equal(old.hp.failed('100.64.0.101:40000'), false)

    const noUtp = setup(null)
    noUtp.peers.add(relay)
    noUtp.hp.introduced('100.64.0.101:40000', relay)
    assert.equal(noUtp.hp.failed('100.64.0.101:40000'), false)
    assert.deepEqual(relay.sent, [])
  })

  it('dials the address of a connect at once, unmapped, and records it', () => {
    const { hp, peers, punched } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    hp.onMessage(relay, encodeHolepunch({ type: 'connect', host: '100.64.0.101', port: 40000, error: 0 }))
    hp.onMessage(relay, encodeHolepunch({ type: 'connect', host: '::ffff:100.64.0.102', port: 40001, error: 0 }))
    assert.deepEqual(punched, ['100.64.0.101:40000', '100.64.0.102:40001'])
    assert.deepEqual([...hp.stats.punched.keys()], punched)
  })

  it('does not aim our dials at this host, multicast or port 0 for a peer elsewhere', () => {
    const { hp, peers, punched } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    for (const [host, port] of [['127.0.0.1', 22], ['0.0.0.0', 80], ['224.0.0.5', 6881], ['100.64.0.101', 0]] as const) {
      hp.onMessage(relay, encodeHolepunch({ type: 'connect', host, port, error: 0 }))
    }
    assert.deepEqual(punched, [])
    // A relay on this host may point at this host (peers on one machine).
    const local = new FakePeer('127.0.0.1:7000')
    peers.add(local)
    hp.onMessage(local, encodeHolepunch({ type: 'connect', host: '127.0.0.1', port: 7001, error: 0 }))
    assert.deepEqual(punched, ['127.0.0.1:7001'])
  })
})

describe('BEP55: asking the relay before a direct dial', () => {
  const unreachable = PEX_FLAGS.holepunch
  const target = '100.64.0.101:40000'

  it('asks at once for a peer that speaks ut_holepunch and that its introducer did not dial; not for one it dialled, or that cannot punch', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers, direct } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    for (const [i, flags] of [PEX_FLAGS.holepunch | PEX_FLAGS.reachable, 0, PEX_FLAGS.utp].entries()) {
      hp.introduced(`100.64.0.${50 + i}:1000`, relay)
      assert.equal(hp.askFirst(`100.64.0.${50 + i}:1000`, flags), false, `flags ${flags}: dialled directly`)
    }
    hp.introduced(target, relay)
    assert.equal(hp.askFirst(target, unreachable), true)
    assert.deepEqual(relay.sent, [{ type: 'rendezvous', host: '100.64.0.101', port: 40000, error: 0 }])
    assert.deepEqual(direct, [], 'no direct dial while the relay may answer')
    assert.equal(hp.stats.askedFirst, 1)
    hp.close()
  })

  it(`dials directly when the relay refuses, or after ${PUNCH_FIRST_MS} ms of silence; a connect in time leaves it to the punch`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers, direct, punched } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    for (const address of ['100.64.0.101:1', '100.64.0.102:2', '100.64.0.103:3']) {
      hp.introduced(address, relay)
      assert.equal(hp.askFirst(address, unreachable), true)
    }
    hp.onMessage(relay, encodeHolepunch({ type: 'error', host: '100.64.0.101', port: 1, error: HOLEPUNCH_ERROR.notConnected }))
    assert.deepEqual(direct, ['100.64.0.101:1'], 'refused: dialled directly at once')
    hp.onMessage(relay, encodeHolepunch({ type: 'connect', host: '100.64.0.102', port: 2, error: 0 }))
    assert.deepEqual(punched, ['100.64.0.102:2'])
    t.mock.timers.tick(PUNCH_FIRST_MS)
    // The punched address is offered to the direct dial too; the swarm skips it as connected or dialling.
    assert.deepEqual(direct.sort(), ['100.64.0.101:1', '100.64.0.102:2', '100.64.0.103:3'])
    t.mock.timers.tick(PUNCH_FIRST_MS * 10)
    assert.equal(direct.length, 3, 'each once')
    hp.close()
  })

  it(`asks one introducer at most ${ASK_FIRST_BUDGET} times a minute before dialling, leaving the rest of its budget to failed dials`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers, clock } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    const asked = Array.from({ length: ASK_FIRST_BUDGET + 10 }, (_, i) => {
      hp.introduced(`100.64.0.${10 + i}:6881`, relay)
      return hp.askFirst(`100.64.0.${10 + i}:6881`, unreachable)
    })
    assert.equal(asked.filter(Boolean).length, ASK_FIRST_BUDGET)
    assert.equal(relay.sent.length, ASK_FIRST_BUDGET)
    clock.now += 60_000
    hp.introduced('100.64.0.200:6881', relay)
    assert.equal(hp.askFirst('100.64.0.200:6881', unreachable), true, 'a minute later it may be asked again')
    hp.close()
  })

  it('without a connected introducer that speaks ut_holepunch, or with uTP off, dials directly', () => {
    const noUtp = setup(null)
    const relay = new FakePeer('100.64.0.3:6881')
    noUtp.peers.add(relay)
    noUtp.hp.introduced(target, relay)
    assert.equal(noUtp.hp.askFirst(target, unreachable), false)
    const old = setup()
    const noSupport = new FakePeer('100.64.0.4:6881', false)
    old.peers.add(noSupport)
    old.hp.introduced(target, noSupport)
    assert.equal(old.hp.askFirst(target, unreachable), false)
    assert.deepEqual([relay.sent, noSupport.sent], [[], []])
  })
})
