import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DISCOVERED_FAILS, FIRST_DELAY, MAX_DELAY, PeerList, type DialOutcome, type PeerSource } from '../../lib/swarm/peer-list.js'
import { MAX_BANS } from '../../lib/swarm/peers/bans.js'
import { peerPriority } from '../../lib/swarm/peers/bep40.js'
import { FakeClock } from '../helpers/fake-clock.js'

interface Setup { peers: PeerList, dials: Array<[string, PeerSource]>, clock: FakeClock }

/** A list whose redials are recorded; `outcome` says what the swarm did with each (default: dialled it,
 *  which the list learns through attempt(), as the swarm tells it). */
function list (t: TestContext, outcome: (address: string) => DialOutcome = () => 'dialled', opts: { maxEntries?: number, self?: { host: string, port: number } } = {}): Setup {
  const clock = new FakeClock()
  const dials: Array<[string, PeerSource]> = []
  const peers: PeerList = new PeerList({
    redial: (address, source) => {
      dials.push([address, source])
      const result = outcome(address)
      if (result === 'dialled') peers.attempt(address)
      return result
    },
    maxEntries: opts.maxEntries,
    self: () => opts.self ?? null,
    clock
  })
  t.after(() => peers.close())
  return { peers, dials, clock }
}

/** Adds `address` as the swarm does when it dials it at once. */
function dialNow (peers: PeerList, address: string, source: PeerSource): void {
  assert.ok(peers.add(address, source))
  peers.attempt(address)
}

test('a named peer that keeps failing is retried with doubling waits, capped, for as long as the list runs', (t) => {
  const { peers, dials, clock } = list(t)
  dialNow(peers, '10.0.0.1:1', 'named')
  const waits: number[] = []
  for (let fail = 1; fail <= 10; fail++) {
    peers.failed('10.0.0.1:1')
    const before = dials.length
    let waited = 0
    while (dials.length === before && waited <= MAX_DELAY) { clock.tick(FIRST_DELAY / 4); waited += FIRST_DELAY / 4 }
    assert.equal(dials.length, before + 1, `no redial after failure ${fail}`)
    waits.push(waited)
  }
  // The protocol of the list: 1 s, doubling, never more than a minute apart.
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60].map((s) => s * 1000))
  assert.ok(dials.every(([a, s]) => a === '10.0.0.1:1' && s === 'named'))
  assert.equal(peers.info('10.0.0.1:1')?.fails, 10)
})

test('a discovered peer is forgotten after a few failures', (t) => {
  const { peers, dials, clock } = list(t)
  dialNow(peers, '10.0.0.2:2', 'dht')
  for (let fail = 1; fail <= DISCOVERED_FAILS; fail++) {
    peers.failed('10.0.0.2:2')
    clock.tick(MAX_DELAY)
  }
  assert.equal(dials.length, DISCOVERED_FAILS - 1)
  assert.equal(peers.size, 0)
})

test('a connection that ended is redialled; one that lasted long starts the backoff over', (t) => {
  const { peers, dials, clock } = list(t)
  dialNow(peers, '10.0.0.3:3', 'named')
  for (let i = 0; i < 5; i++) { peers.failed('10.0.0.3:3'); clock.tick(MAX_DELAY) }
  peers.connected('10.0.0.3:3', 'tcp', true)
  dials.length = 0
  peers.ended('10.0.0.3:3', MAX_DELAY)
  clock.tick(FIRST_DELAY)
  assert.deepEqual(dials, [['10.0.0.3:3', 'named']])
})

test('a discovered peer that keeps hanging up soon is forgotten; one whose connections last is kept', (t) => {
  const { peers, dials, clock } = list(t)
  for (const address of ['10.0.1.1:1', '10.0.1.2:2']) {
    dialNow(peers, address, 'pex')
    peers.connected(address, 'tcp', true)
  }
  for (let i = 0; i < DISCOVERED_FAILS; i++) {
    peers.ended('10.0.1.1:1', 10)
    peers.ended('10.0.1.2:2', MAX_DELAY)
    clock.tick(MAX_DELAY)
    for (const [address] of dials.splice(0)) peers.connected(address, 'tcp', true)
  }
  assert.equal(peers.info('10.0.1.1:1'), undefined)
  assert.equal(peers.info('10.0.1.2:2')?.fails, 1, 'each long connection starts the count over')
})

test('what the list records of a peer: sources, connectable, transports, attempts', (t) => {
  const { peers, clock } = list(t)
  dialNow(peers, '10.0.0.4:4', 'pex')
  peers.add('10.0.0.4:4', 'dht')
  const dialledAt = clock.now()
  peers.connected('10.0.0.4:4', 'tcp', true)
  peers.connected('10.0.0.4:4', 'utp', true)
  assert.deepEqual(peers.info('10.0.0.4:4'), {
    address: '10.0.0.4:4', sources: ['pex', 'dht'], connectable: true, transports: ['tcp', 'utp'], fails: 0, lastAttempt: dialledAt, nextAttempt: 0
  })
  // A peer that dialled us is known while connected, not connectable, and forgotten when it leaves:
  // its port is the one it dialled from.
  peers.connected('10.0.0.5:50000', 'tcp', false)
  assert.deepEqual(peers.info('10.0.0.5:50000')?.sources, ['incoming'])
  assert.equal(peers.info('10.0.0.5:50000')?.connectable, false)
  peers.ended('10.0.0.5:50000', 10)
  assert.equal(peers.info('10.0.0.5:50000'), undefined)
})

test('no room: the address waits for a slot, without counting a failure, and gets the next one that frees', (t) => {
  let room = false
  const { peers, dials, clock } = list(t, () => room ? 'dialled' : 'full')
  assert.ok(peers.add('10.0.0.6:6', 'named'))
  clock.tick(0)
  assert.equal(dials.length, 1)
  for (let i = 0; i < 5; i++) clock.tick(FIRST_DELAY)
  assert.equal(dials.length, 6, 'tried again each time without room')
  assert.equal(peers.info('10.0.0.6:6')?.fails, 0)
  // A slot frees (another peer's connection ended): the waiting address is dialled at once.
  room = true
  dialNow(peers, '10.0.0.7:7', 'named')
  peers.connected('10.0.0.7:7', 'tcp', true)
  peers.ended('10.0.0.7:7', 5)
  clock.tick(0)
  assert.deepEqual(dials.at(-1), ['10.0.0.6:6', 'named'])
  clock.tick(MAX_DELAY)
  assert.ok(dials.filter(([a]) => a === '10.0.0.6:6').length === 7, 'a dial that went out waits for its outcome')
})

test('dial order: named first, then fewer failures, then the higher BEP40 priority with us', (t) => {
  const self = { host: '123.213.32.10', port: 6881 }
  let room = false
  const { peers, dials, clock } = list(t, () => room ? 'dialled' : 'full', { self })
  // Added lowest priority first, so that the order dialled is not the order added.
  const discovered = ['200.1.2.3:1', '1.2.3.4:1', '123.213.32.234:1', '98.76.54.32:1']
  for (const address of discovered) peers.add(address, 'dht')
  peers.add('5.6.7.8:1', 'named')
  clock.tick(0)
  dials.length = 0
  room = true
  clock.tick(FIRST_DELAY)
  const byPriority = [...discovered].sort((a, b) => peerPriority(self, split(b))! - peerPriority(self, split(a))!)
  assert.deepEqual(byPriority, ['98.76.54.32:1', '123.213.32.234:1', '1.2.3.4:1', '200.1.2.3:1'])
  assert.deepEqual(dials.map(([a]) => a), ['5.6.7.8:1', ...byPriority])
})

test('one refusal for room stops the round: no address is asked after it', (t) => {
  const { peers, dials, clock } = list(t, () => 'full')
  for (let i = 1; i <= 20; i++) peers.add(`10.1.0.${i}:1`, 'dht')
  clock.tick(0)
  assert.equal(dials.length, 1)
})

test('the list is bounded: named entries push out the worst discovered ones, never each other', (t) => {
  const { peers, clock } = list(t, () => 'full', { maxEntries: 3 })
  assert.ok(peers.add('d1:1', 'dht'))
  assert.ok(peers.add('d2:1', 'pex'))
  assert.ok(peers.add('n1:1', 'named'))
  assert.equal(peers.add('d3:1', 'lsd'), false, 'a fresh address pushed out one that never failed')
  peers.attempt('d2:1')
  peers.failed('d2:1')
  clock.tick(0)
  assert.ok(peers.add('n2:1', 'named'))
  assert.equal(peers.info('d2:1'), undefined, 'the entry that failed went first')
  assert.ok(peers.add('n3:1', 'named'))
  assert.equal(peers.add('n4:1', 'named'), false)
  assert.equal(peers.size, 3)
})

test('a connected entry is never evicted', (t) => {
  const { peers } = list(t, () => 'full', { maxEntries: 1 })
  dialNow(peers, 'd1:1', 'dht')
  peers.connected('d1:1', 'tcp', true)
  assert.equal(peers.add('n1:1', 'named'), false)
  assert.equal(peers.info('d1:1')?.connectable, true)
})

test('a ban removes the address, refuses it and its peer id afterwards, and keeps the reason', (t) => {
  const { peers } = list(t)
  dialNow(peers, '10.0.0.8:8', 'named')
  peers.ban('10.0.0.8:8', 'sent data that failed the hash check', 'ab'.repeat(20))
  assert.equal(peers.info('10.0.0.8:8'), undefined)
  assert.equal(peers.add('10.0.0.8:8', 'named'), false)
  assert.equal(peers.banReason('10.0.0.8:8'), 'sent data that failed the hash check')
  assert.equal(peers.banReason('10.9.9.9:1', 'ab'.repeat(20)), 'sent data that failed the hash check')
  assert.equal(peers.banReason('10.9.9.9:1'), undefined)
})

test('bans are bounded: the oldest is forgotten first', (t) => {
  const { peers } = list(t)
  for (let i = 0; i <= MAX_BANS; i++) peers.ban(`10.2.${i >> 8}.${i & 255}:1`, `ban ${i}`)
  assert.equal(peers.banReason('10.2.0.0:1'), undefined)
  assert.equal(peers.banReason(`10.2.${MAX_BANS >> 8}.${MAX_BANS & 255}:1`), `ban ${MAX_BANS}`)
})

test('close clears the timer: nothing is dialled afterwards', (t) => {
  const { peers, dials, clock } = list(t)
  dialNow(peers, '10.0.0.9:9', 'named')
  peers.failed('10.0.0.9:9')
  peers.close()
  clock.tick(MAX_DELAY)
  assert.equal(dials.length, 0)
  assert.equal(clock.pending, 0)
})

function split (address: string): { host: string, port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) }
}

test('any sequence of events keeps the list within its bound, and named entries outlive discovered ones', () => {
  const address = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 3 })).map(([host, port]) => `10.3.0.${host}:${port}`)
  const source = fc.constantFrom<PeerSource>('named', 'dht', 'lsd', 'pex', 'incoming', 'discovered')
  const step = fc.oneof(
    fc.record({ op: fc.constant('add' as const), address, source }),
    fc.record({ op: fc.constantFrom('attempt' as const, 'failed' as const, 'connected' as const, 'remove' as const, 'ban' as const), address }),
    fc.record({ op: fc.constant('ended' as const), address, lasted: fc.integer({ min: 0, max: 2 * MAX_DELAY }) }),
    fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 2 * MAX_DELAY }) })
  )
  fc.assert(fc.property(fc.array(step, { maxLength: 200 }), fc.constantFrom<DialOutcome>('dialled', 'full', 'skipped'), (steps, outcome) => {
    const clock = new FakeClock()
    const named = new Set<string>()
    const peers: PeerList = new PeerList({ redial: (a) => { if (outcome === 'dialled') peers.attempt(a); return outcome }, maxEntries: 8, clock })
    for (const s of steps) {
      switch (s.op) {
        case 'add': if (peers.add(s.address, s.source) && s.source === 'named') named.add(s.address); break
        case 'attempt': peers.attempt(s.address); break
        case 'failed': peers.failed(s.address); break
        case 'connected': peers.connected(s.address, 'tcp', true); break
        case 'ended': peers.ended(s.address, s.lasted); break
        case 'remove': peers.remove(s.address); named.delete(s.address); break
        case 'ban': peers.ban(s.address, 'test'); named.delete(s.address); break
        case 'tick': clock.tick(s.ms); break
      }
      assert.ok(peers.size <= 8)
      for (const a of named) assert.ok(peers.info(a)?.sources.includes('named'), `${a}, named, was dropped`)
    }
    peers.close()
    assert.equal(clock.pending, 0)
  }), { numRuns: 200 })
})
