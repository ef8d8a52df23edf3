import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EARLY_BUDGET, Holepunch, HOLEPUNCH_BUDGET, PUNCH_AFTER_MS, RENDEZVOUS_RETRY_MS, type HolepunchPeer } from '../../lib/swarm/holepunch.js'
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

function setup (punch: ((address: string) => void) | null = () => {}): { hp: Holepunch<FakePeer>, peers: Set<FakePeer>, clock: { now: number }, punched: string[], dialling: Set<string> } {
  const peers = new Set<FakePeer>()
  const clock = { now: 1_000_000 }
  const punched: string[] = []
  const dialling = new Set<string>()
  const hp = new Holepunch<FakePeer>({
    peers,
    addressOf: (peer) => peer.address,
    punch: punch === null ? null : (address) => { punched.push(address); punch(address) },
    dialling: (address) => dialling.has(address),
    now: () => clock.now
  })
  return { hp, peers, clock, punched, dialling }
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

describe('BEP55: asking the relay while a direct dial is pending', () => {
  const unreachable = PEX_FLAGS.holepunch
  const target = '100.64.0.101:40000'

  it(`asks ${PUNCH_AFTER_MS} ms into the dial of a peer that speaks ut_holepunch and that its introducer did not dial; not for one it dialled, or that cannot punch`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers, dialling } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    for (const [i, flags] of [PEX_FLAGS.holepunch | PEX_FLAGS.reachable, 0, PEX_FLAGS.utp].entries()) {
      const address = `100.64.0.${50 + i}:1000`
      hp.introduced(address, relay)
      dialling.add(address)
      hp.dialled(address, flags)
    }
    hp.introduced(target, relay)
    dialling.add(target)
    hp.dialled(target, unreachable)
    t.mock.timers.tick(PUNCH_AFTER_MS - 1)
    assert.deepEqual(relay.sent, [], 'not before the time a direct dial is given')
    t.mock.timers.tick(1)
    assert.deepEqual(relay.sent, [{ type: 'rendezvous', host: '100.64.0.101', port: 40000, error: 0 }], 'only the one flagged as a possible NAT')
    assert.deepEqual([hp.stats.askedEarly, hp.stats.rendezvousSent], [1, 1])
    assert.equal(hp.failed(target), false, 'its dial failing later does not ask again')
    hp.close()
  })

  it('asks nobody when the dial shook hands (or failed) in time', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    hp.introduced(target, relay)
    hp.dialled(target, unreachable)
    t.mock.timers.tick(PUNCH_AFTER_MS)
    assert.deepEqual(relay.sent, [])
    hp.close()
  })

  it(`asks one introducer at most ${EARLY_BUDGET} times a minute early, leaving the rest of its budget to failed dials`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const { hp, peers, clock, dialling } = setup()
    const relay = new FakePeer('100.64.0.3:6881')
    peers.add(relay)
    for (let i = 0; i < EARLY_BUDGET + 10; i++) {
      const address = `100.64.0.${10 + i}:6881`
      hp.introduced(address, relay)
      dialling.add(address)
      hp.dialled(address, unreachable)
    }
    t.mock.timers.tick(PUNCH_AFTER_MS)
    assert.equal(relay.sent.length, EARLY_BUDGET)
    assert.equal(hp.failed('100.64.0.250:1'), false, 'nobody introduced it')
    hp.introduced('100.64.0.200:6881', relay)
    assert.equal(hp.failed('100.64.0.200:6881'), true, 'a failed dial may still ask')
    clock.now += 60_000
    hp.introduced('100.64.0.201:6881', relay)
    dialling.add('100.64.0.201:6881')
    hp.dialled('100.64.0.201:6881', unreachable)
    t.mock.timers.tick(PUNCH_AFTER_MS)
    assert.equal(relay.sent.length, EARLY_BUDGET + 2, 'a minute later it may be asked early again')
    hp.close()
  })

  it('without a connected introducer that speaks ut_holepunch, or with uTP off, asks nobody', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    const noUtp = setup(null)
    const relay = new FakePeer('100.64.0.3:6881')
    noUtp.peers.add(relay)
    noUtp.hp.introduced(target, relay)
    noUtp.dialling.add(target)
    noUtp.hp.dialled(target, unreachable)
    const old = setup()
    const noSupport = new FakePeer('100.64.0.4:6881', false)
    old.peers.add(noSupport)
    old.hp.introduced(target, noSupport)
    old.dialling.add(target)
    old.hp.dialled(target, unreachable)
    t.mock.timers.tick(PUNCH_AFTER_MS)
    assert.deepEqual([relay.sent, noSupport.sent], [[], []])
    noUtp.hp.close()
    old.hp.close()
  })
})
