import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DISCOVERED_FAILS, FIRST_DELAY, MAX_DELAY, PeerList, type PeerSource } from '../../lib/swarm/peer-list.js'

function list (t: import('node:test').TestContext, room = () => true, maxEntries?: number): { peers: PeerList, dials: Array<[string, PeerSource]> } {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  const dials: Array<[string, PeerSource]> = []
  const peers = new PeerList({ redial: (address, source) => { dials.push([address, source]); return room() }, maxEntries })
  t.after(() => peers.close())
  return { peers, dials }
}

test('a named peer that keeps failing is retried with doubling waits, capped, for as long as the list runs', (t) => {
  const { peers, dials } = list(t)
  peers.add('10.0.0.1:1', 'named')
  const waits: number[] = []
  for (let fail = 1; fail <= 10; fail++) {
    peers.failed('10.0.0.1:1')
    const before = dials.length
    let waited = 0
    while (dials.length === before && waited <= MAX_DELAY) { t.mock.timers.tick(FIRST_DELAY / 4); waited += FIRST_DELAY / 4 }
    assert.equal(dials.length, before + 1, `no redial after failure ${fail}`)
    waits.push(waited)
  }
  assert.deepEqual(waits, waits.map((_, i) => Math.min(MAX_DELAY, FIRST_DELAY * 2 ** i)))
  assert.ok(dials.every(([a, s]) => a === '10.0.0.1:1' && s === 'named'))
})

test('a discovered peer is forgotten after a few failures', (t) => {
  const { peers, dials } = list(t)
  peers.add('10.0.0.2:2', 'discovered')
  for (let fail = 1; fail <= DISCOVERED_FAILS; fail++) {
    peers.failed('10.0.0.2:2')
    t.mock.timers.tick(MAX_DELAY)
  }
  assert.equal(dials.length, DISCOVERED_FAILS - 1)
  assert.equal(peers.size, 0)
})

test('a connection that ended is redialled; one that lasted long starts the backoff over', (t) => {
  const { peers, dials } = list(t)
  peers.add('10.0.0.3:3', 'named')
  for (let i = 0; i < 5; i++) peers.failed('10.0.0.3:3')
  t.mock.timers.tick(MAX_DELAY)
  dials.length = 0
  peers.ended('10.0.0.3:3', MAX_DELAY)
  t.mock.timers.tick(FIRST_DELAY)
  assert.equal(dials.length, 1)
})

test('no room: the peer is tried again after the same wait, without counting a failure', (t) => {
  let room = false
  const { peers, dials } = list(t, () => room)
  peers.add('10.0.0.4:4', 'named')
  peers.failed('10.0.0.4:4')
  for (let i = 0; i < 5; i++) t.mock.timers.tick(FIRST_DELAY)
  assert.equal(dials.length, 5)
  room = true
  t.mock.timers.tick(FIRST_DELAY)
  assert.equal(dials.length, 6)
  t.mock.timers.tick(MAX_DELAY)
  assert.equal(dials.length, 6, 'a dial that went out waits for its outcome')
})

test('the list is bounded: named entries push out the worst discovered ones, never each other', (t) => {
  const { peers } = list(t, () => true, 3)
  assert.ok(peers.add('d1:1', 'discovered'))
  assert.ok(peers.add('d2:1', 'discovered'))
  assert.ok(peers.add('n1:1', 'named'))
  assert.equal(peers.add('d3:1', 'discovered'), false, 'a fresh address pushed out one that never failed')
  peers.failed('d2:1')
  assert.ok(peers.add('n2:1', 'named'))
  assert.ok(peers.add('n3:1', 'named'))
  assert.equal(peers.add('n4:1', 'named'), false)
  assert.equal(peers.size, 3)
})

test('close clears the timer: nothing is dialled afterwards', (t) => {
  const { peers, dials } = list(t)
  peers.add('10.0.0.5:5', 'named')
  peers.failed('10.0.0.5:5')
  peers.close()
  t.mock.timers.tick(MAX_DELAY)
  assert.equal(dials.length, 0)
})
