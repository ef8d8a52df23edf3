/**
 * The Rechoker driven by fake peers: each records the CHOKE and UNCHOKE it is sent. The slot
 * count is the configured one (tuning.ts SLOTS, libtorrent's default), plus BEP3's one
 * optimistic unchoke.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Rechoker, type RechokePeer } from '../../lib/swarm/rechoker.js'
import { SLOTS } from '../../lib/swarm/tuning.js'
import type { Message } from '../../lib/wire/messages.js'

interface Fake extends RechokePeer { name: string, amChoking: boolean, interested: boolean, downloadRate: number, unchokedAt: number, said: string[] }

/** The fakes' clock: every unchoke a tick later than the one before. */
let clock = 0

function fake (name: string, interested: boolean, downloadRate = 0): Fake {
  const peer: Fake = {
    name, interested, downloadRate, uploadRate: 0, connectedAt: 0, unchokedAt: 0, amChoking: true, said: [],
    send: (msg: Message) => {
      if (msg.type === 'choke' || msg.type === 'unchoke') {
        peer.amChoking = msg.type === 'choke'
        if (msg.type === 'unchoke') peer.unchokedAt = ++clock
        peer.said.push(msg.type)
      }
    }
  }
  return peer
}

const unchoked = (peers: Iterable<Fake>): string[] => [...peers].filter((p) => !p.amChoking).map((p) => p.name)

/** Peers that connect and say they are interested, one after another. */
function admit (peers: Set<Fake>, rechoker: Rechoker<Fake>, arriving: Fake[]): void {
  for (const p of arriving) {
    peers.add(p)
    rechoker.interestChanged(p)
  }
}

test('an interested peer is unchoked at once while a slot is free, and waits for the rechoke once all are taken', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => false, () => {})
  t.after(() => rechoker.close())
  const all = [...Array(SLOTS + 3).keys()].map((i) => fake(`p${i}`, true))
  admit(peers, rechoker, all)
  // The regular slots and the optimistic one.
  assert.equal(unchoked(all).length, SLOTS + 1)
  const late = fake('not interested', false)
  peers.add(late)
  rechoker.interestChanged(late)
  assert.equal(late.amChoking, true, 'a peer that is not interested was unchoked')
})

test('a rechoke keeps the fastest interested peers and one optimistic unchoke, and chokes the rest, telling the uploader of each', (t) => {
  const peers = new Set<Fake>()
  const choked: string[] = []
  const rechoker = new Rechoker<Fake>(peers, () => false, (peer) => choked.push(peer.name))
  t.after(() => rechoker.close())
  const fast = [...Array(SLOTS).keys()].map((i) => fake(`fast${i}`, true, 1000 + i))
  const slow = [...Array(4).keys()].map((i) => fake(`slow${i}`, true, 1))
  const idle = fake('idle', false, 5000)
  for (const p of [...slow, idle, ...fast]) {
    peers.add(p)
    p.send({ type: 'unchoke' })
  }
  rechoker.rechoke()
  const open = unchoked(peers)
  for (const p of fast) assert.ok(open.includes(p.name), `${p.name}, one of the ${SLOTS} fastest, was choked`)
  assert.equal(idle.amChoking, true, 'a peer that wants nothing kept a slot')
  assert.equal(open.length, SLOTS + 1, 'not exactly one optimistic unchoke besides the regular slots')
  assert.ok(open.some((name) => name.startsWith('slow')), 'the optimistic unchoke went to no slow peer')
  // Each peer choked here was reported once, so its queued requests are dropped.
  assert.deepEqual(choked.sort(), [...peers].filter((p) => p.amChoking).map((p) => p.name).sort())
})

test('a peer that loses interest frees its slot at once for the fastest peer waiting, not at the next round', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => false, () => {})
  t.after(() => rechoker.close())
  const holders = [...Array(SLOTS + 1).keys()].map((i) => fake(`holder${i}`, true))
  admit(peers, rechoker, holders)
  const slow = fake('slow', true, 10)
  const fast = fake('fast', true, 500)
  admit(peers, rechoker, [slow, fast])
  assert.deepEqual([slow.amChoking, fast.amChoking], [true, true], 'a peer was unchoked with every slot taken')
  const done = holders[0]!
  done.interested = false
  rechoker.interestChanged(done)
  assert.equal(fast.amChoking, false, 'the free slot was not given to the fastest peer waiting')
  assert.equal(slow.amChoking, true, 'more interested peers unchoked than slots')
  // It may ask again without waiting for an unchoke; the round chokes it if it still wants nothing.
  assert.deepEqual(done.said, ['unchoke'], 'the peer that lost interest was choked at once')
  rechoker.rechoke()
  assert.equal(done.amChoking, true, 'a round left a peer that wants nothing unchoked')
})

test('a peer that leaves gives its slot at once to a peer waiting', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => true, () => {})
  t.after(() => rechoker.close())
  const holders = [...Array(SLOTS + 1).keys()].map((i) => fake(`holder${i}`, true))
  const waiting = fake('waiting', true)
  admit(peers, rechoker, [...holders, waiting])
  assert.equal(waiting.amChoking, true, 'unchoked with every slot taken')
  peers.delete(holders[3]!)
  rechoker.left(holders[3]!)
  assert.equal(waiting.amChoking, false, 'the slot of the peer that left stayed empty')
  assert.equal(unchoked(peers).length, SLOTS + 1)
})

test('a free slot goes to the peer that waited longest since its last unchoke, not to the first connected', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => true, () => {})
  t.after(() => rechoker.close())
  const first = fake('first connected', true)
  const holders = [...Array(SLOTS + 1).keys()].map((i) => fake(`holder${i}`, true))
  const late = fake('late', true)
  admit(peers, rechoker, [first, ...holders])
  // `first` had a slot and lost it; `late` never had one.
  first.send({ type: 'choke' })
  peers.add(late)
  rechoker.interestChanged(late)
  assert.deepEqual([first.amChoking, late.amChoking], [true, true])
  holders[0]!.interested = false
  rechoker.interestChanged(holders[0]!)
  assert.equal(late.amChoking, false, 'the slot went to the peer served before instead of the one never served')
  assert.equal(first.amChoking, true)
})

test('a peer whose interest flickers frees its slot once, not once per flicker, until the round', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => true, () => {})
  t.after(() => rechoker.close())
  const all = [...Array(60).keys()].map((i) => fake(`p${i}`, true))
  admit(peers, rechoker, all)
  const flicker = all[0]!
  for (let i = 0; i < 100; i++) {
    flicker.interested = !flicker.interested
    rechoker.interestChanged(flicker)
  }
  assert.equal(unchoked(peers).length, SLOTS + 2, 'more than the slots and the one that lost interest unchoked')
  rechoker.rechoke()
  assert.equal(unchoked(peers).length, SLOTS + 1, 'the round did not bring the unchokes back to the slots')
})
