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

interface Fake extends RechokePeer { name: string, amChoking: boolean, interested: boolean, downloadRate: number, said: string[] }

function fake (name: string, interested: boolean, downloadRate = 0): Fake {
  const peer: Fake = {
    name, interested, downloadRate, uploadRate: 0, connectedAt: 0, amChoking: true, said: [],
    send: (msg: Message) => {
      if (msg.type === 'choke' || msg.type === 'unchoke') {
        peer.amChoking = msg.type === 'choke'
        peer.said.push(msg.type)
      }
    }
  }
  return peer
}

const unchoked = (peers: Iterable<Fake>): string[] => [...peers].filter((p) => !p.amChoking).map((p) => p.name)

test('an interested peer is unchoked at once while a slot is free, and waits for the rechoke once all are taken', (t) => {
  const peers = new Set<Fake>()
  const rechoker = new Rechoker<Fake>(peers, () => false, () => {})
  t.after(() => rechoker.close())
  const all = [...Array(SLOTS + 3).keys()].map((i) => fake(`p${i}`, true))
  for (const peer of all) {
    peers.add(peer)
    rechoker.interestChanged(peer)
  }
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
