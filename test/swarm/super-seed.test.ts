import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SuperSeed } from '../../lib/swarm/super-seed.js'
import { Bitfield } from '../../lib/util/bitfield.js'

interface FakePeer { name: string, bitfield: Bitfield }
const peer = (name: string, pieces: number, has: number[] = []): FakePeer => {
  const bitfield = new Bitfield(pieces)
  for (const i of has) bitfield.set(i)
  return { name, bitfield }
}
/** What the wire does on a HAVE: the bit first, then the super-seeder hears of it. */
const have = (s: SuperSeed<FakePeer>, p: FakePeer, i: number): Array<[FakePeer, number]> => {
  p.bitfield.set(i)
  return s.onHave(p, i)
}

test('each new peer is offered a different piece, and only that piece is served', () => {
  const s = new SuperSeed<FakePeer>(4)
  const a = peer('a', 4)
  const b = peer('b', 4)
  const pa = s.addPeer(a)
  const pb = s.addPeer(b)
  assert.notEqual(pa, -1)
  assert.notEqual(pb, -1)
  assert.notEqual(pa, pb)
  assert.equal(s.mayServe(a, pa), true)
  assert.equal(s.mayServe(a, pb), false)
  assert.equal(s.mayServe(b, pb), true)
})

test('the rarest piece is offered first: pieces peers already hold come last', () => {
  const s = new SuperSeed<FakePeer>(3)
  s.addPeer(peer('x', 3, [0, 1]))
  assert.equal(s.addPeer(peer('a', 3)), 2)
})

test('a peer gets its next piece only once its piece shows up at another peer', () => {
  const s = new SuperSeed<FakePeer>(4)
  const a = peer('a', 4)
  const b = peer('b', 4)
  const pa = s.addPeer(a)
  const pb = s.addPeer(b)
  // a has its piece but b lacks it: a waits for it to be passed on.
  assert.deepEqual(have(s, a, pa), [])
  assert.equal(s.offered(a), pa)
  // b announces a's piece (it got it from a): a is released and offered a piece nobody has.
  const next = have(s, b, pa)
  assert.equal(next.length, 1)
  const [who, piece] = next[0] ?? []
  assert.equal(who, a)
  assert.ok(piece !== undefined && ![pa, pb].includes(piece))
  // b's own offer is unchanged: a HAVE of another piece does not release it.
  assert.equal(s.offered(b), pb)
})

test('a peer alone with nobody to pass its piece to moves on at once', () => {
  const s = new SuperSeed<FakePeer>(2)
  const a = peer('a', 2)
  const p0 = s.addPeer(a)
  const next = have(s, a, p0)
  assert.deepEqual(next, [[a, 1 - p0]])
  assert.equal(s.allOut, false)
  assert.deepEqual(have(s, a, 1 - p0), [])
  assert.equal(s.offered(a), -1)
  assert.equal(s.allOut, true)
})

test('a held peer is released when the peers that lacked its piece leave', () => {
  const s = new SuperSeed<FakePeer>(3)
  const a = peer('a', 3)
  const b = peer('b', 3)
  const pa = s.addPeer(a)
  s.addPeer(b)
  assert.deepEqual(have(s, a, pa), [])
  const next = s.removePeer(b)
  assert.equal(next.length, 1)
  const [who, piece] = next[0] ?? []
  assert.equal(who, a)
  assert.notEqual(piece, pa)
})

test('out-of-range HAVEs and unknown peers change nothing', () => {
  const s = new SuperSeed<FakePeer>(2)
  const a = peer('a', 2)
  assert.deepEqual(s.onHave(a, 5), [])
  assert.deepEqual(s.onHave(a, -1), [])
  assert.equal(s.mayServe(a, 0), false)
  assert.deepEqual(s.removePeer(a), [])
  assert.equal(s.allOut, false)
})

test('property: peers that pass pieces on get every piece out once before any piece is offered twice while another is unoffered', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 2, max: 6 }), fc.array(fc.nat(), { maxLength: 400 }), (pieces, peerCount, choices) => {
    const s = new SuperSeed<FakePeer>(pieces)
    const peers = Array.from({ length: peerCount }, (_, i) => peer(String(i), pieces))
    const offersOf = new Map<number, number>()
    const offer = (i: number): void => { offersOf.set(i, (offersOf.get(i) ?? 0) + 1) }
    for (const p of peers) { const i = s.addPeer(p); if (i >= 0) offer(i) }
    // Uploads: a peer completes the piece it was offered, or a peer copies a piece another has.
    for (let step = 0; step < 2000 && !s.allOut; step++) {
      const c = choices[step % Math.max(1, choices.length)] ?? step
      // The first peer from a random start that can take a piece: its offered one, or a copy.
      let p = peers[0] as FakePeer
      let index = -1
      for (let k = 0; k < peerCount && index < 0; k++) {
        p = peers[(c + k) % peerCount] as FakePeer
        const mine = s.offered(p)
        if (mine >= 0 && !p.bitfield.get(mine)) { index = mine; break }
        for (const q of peers) {
          for (let i = 0; q !== p && index < 0 && i < pieces; i++) if (q.bitfield.get(i) && !p.bitfield.get(i)) index = i
        }
      }
      if (index < 0) break
      for (const [, next] of have(s, p, index)) {
        // A second offer of a piece while some piece was never offered breaks the rule.
        if (offersOf.has(next) && offersOf.size < pieces) assert.fail(`piece ${next} offered again before all pieces were offered once`)
        offer(next)
      }
    }
    assert.equal(s.allOut, true)
  }), { numRuns: 200 })
})
