import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chooseUnchoked, pickOptimistic, type ChokeCandidate } from '../../lib/swarm/choker.js'

function peer (name: string, interested: boolean, downloadRate: number, uploadRate: number, connectedAt = 0, unchokedAt = 0): ChokeCandidate & { name: string } {
  return { name, interested, downloadRate, uploadRate, connectedAt, unchokedAt }
}

const names = (set: Set<ChokeCandidate>): string[] => [...set].map((p) => (p as ChokeCandidate & { name: string }).name).sort()

const swarm = [
  peer('a', true, 100, 5),
  peer('b', true, 500, 1),
  peer('c', false, 9000, 9000),
  peer('d', true, 300, 50),
  peer('e', true, 200, 40),
  peer('f', true, 50, 30),
  peer('g', true, 10, 20)
]

test('downloading: the interested peers that give us the most', () => {
  assert.deepEqual(names(chooseUnchoked(swarm, { seeding: false, slots: 4 })), ['a', 'b', 'd', 'e'])
  assert.deepEqual(names(chooseUnchoked(swarm, { seeding: false, slots: 2 })), ['b', 'd'])
})

test('seeding: the interested peers that take the most from us', () => {
  assert.deepEqual(names(chooseUnchoked(swarm, { seeding: true, slots: 4 })), ['d', 'e', 'f', 'g'])
  assert.deepEqual(names(chooseUnchoked(swarm, { seeding: true, slots: 1 })), ['d'])
})

test('slot count bounds the regular unchokes; uninterested peers never take one', () => {
  for (const slots of [0, 1, 3, 6, 10]) {
    const chosen = chooseUnchoked(swarm, { seeding: false, slots })
    assert.equal(chosen.size, Math.min(slots, 6))
    assert.ok(![...chosen].some((p) => !p.interested))
  }
  assert.equal(chooseUnchoked([], { seeding: true, slots: 4 }).size, 0)
})

test('the optimistic unchoke is added on top, once', () => {
  const g = swarm[6]!
  assert.deepEqual(names(chooseUnchoked(swarm, { seeding: false, slots: 4, optimistic: g })), ['a', 'b', 'd', 'e', 'g'])
  const b = swarm[1]!
  assert.equal(chooseUnchoked(swarm, { seeding: false, slots: 4, optimistic: b }).size, 4)
})

test('pickOptimistic chooses a choked interested peer', () => {
  const regular = chooseUnchoked(swarm, { seeding: false, slots: 4 })
  let random = 0
  for (let i = 0; i < 100; i++) {
    random = (random + 0.137) % 1
    const chosen = pickOptimistic(swarm, () => random, { now: 1_000_000, exclude: regular })
    assert.ok(chosen !== undefined)
    assert.ok(chosen.interested)
    assert.ok(!regular.has(chosen))
  }
  assert.equal(pickOptimistic(swarm.filter((p) => !p.interested), () => 0.5, { now: 0 }), undefined)
  assert.equal(pickOptimistic([], () => 0.5, { now: 0 }), undefined)
})

test('pickOptimistic weighs newly connected peers three to one', () => {
  const old = peer('old', true, 0, 0, 0)
  const fresh = peer('fresh', true, 0, 0, 100_000)
  const now = 120_000
  // Weights: old 1, fresh 3, so tickets [0,1) pick old and [1,4) pick fresh.
  const counts = { old: 0, fresh: 0 }
  for (let i = 0; i < 400; i++) {
    const chosen = pickOptimistic([old, fresh], () => i / 400, { now })
    counts[chosen === old ? 'old' : 'fresh']++
  }
  assert.deepEqual(counts, { old: 100, fresh: 300 })
  assert.equal(pickOptimistic([old, fresh], () => 0.7, { now, newPeerMs: 1 }), fresh, 'equal weights once nobody is new')
})

test('among peers at the same rate the one unchoked longest ago (or never) wins, whatever their order', () => {
  const waiting = [peer('recent', true, 0, 0, 1, 900), peer('older', true, 0, 0, 2, 300), peer('never', true, 0, 0, 3, 0), peer('oldest', true, 0, 0, 4, 100)]
  for (const seeding of [false, true]) {
    assert.deepEqual(names(chooseUnchoked(waiting, { seeding, slots: 2 })), ['never', 'oldest'])
    assert.deepEqual(names(chooseUnchoked(waiting, { seeding, slots: 3 })), ['never', 'older', 'oldest'])
  }
  // A rate still decides first.
  assert.deepEqual(names(chooseUnchoked([...waiting, peer('giving', true, 10, 10, 5, 1000)], { seeding: false, slots: 1 })), ['giving'])
})
