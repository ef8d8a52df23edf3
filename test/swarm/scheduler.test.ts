/**
 * The Scheduler driven directly by fake peers (what they have, nothing more): no sockets, no
 * storage. Sizes come from the setup: PIECE is four 16 KiB blocks (BEP3's block size), and the
 * memory budget is given in whole pieces (two at least: the Scheduler's documented floor).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Scheduler, type SchedulerPeer } from '../../lib/swarm/scheduler.js'
import { PiecePicker } from '../../lib/swarm/picker.js'
import { Bitfield } from '../../lib/util/bitfield.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'
import { requestKey, type BlockRequest } from '../../lib/swarm/peer.js'

const BLOCKS = 4
const PIECE = BLOCKS * BLOCK_SIZE

interface Fake extends SchedulerPeer { name: string }

/** A seed, or a peer holding exactly `pieces`. */
function fake (name: string, count: number, pieces: number[] | 'all'): Fake {
  const bitfield = new Bitfield(count)
  if (pieces === 'all') bitfield.setAll()
  else for (const i of pieces) bitfield.set(i)
  return { name, bitfield, isSeed: pieces === 'all', has: (i: number) => bitfield.get(i) }
}

function setup (pieces: number, budgetPieces: number): { scheduler: Scheduler<Fake>, picker: PiecePicker } {
  // A fixed shuffle: the tests do not depend on which piece is picked first, only on the rules.
  const picker = new PiecePicker(pieces, { random: () => 0.5 })
  const scheduler = new Scheduler<Fake>(picker, { pieceLength: PIECE, pieceCount: pieces, length: pieces * PIECE, memoryBudget: budgetPieces * PIECE })
  return { scheduler, picker }
}

/** The requests `peer` gets, up to `max`. */
function drain (scheduler: Scheduler<Fake>, peer: Fake, max = 1000): BlockRequest[] {
  const out: BlockRequest[] = []
  while (out.length < max) {
    const req = scheduler.next(peer)
    if (req === null) break
    out.push(req)
  }
  return out
}

const block = (req: BlockRequest): Buffer => Buffer.alloc(req.length, req.index)
const pieces = (reqs: BlockRequest[]): number[] => [...new Set(reqs.map((r) => r.index))].sort((a, b) => a - b)

test('a piece started by one peer is fetched by it alone: a second peer starts another', () => {
  const { scheduler } = setup(8, 8)
  const a = fake('a', 8, 'all')
  const b = fake('b', 8, 'all')
  const first = scheduler.next(a)!
  const second = scheduler.next(b)!
  assert.notEqual(second.index, first.index, 'b was given a block of the piece a owns')
  assert.equal(scheduler.partials.get(first.index)!.owner, a)
  // a goes on with its own piece before starting any other.
  const rest = drain(scheduler, a, BLOCKS - 1)
  assert.deepEqual(pieces(rest), [first.index])
  assert.equal(scheduler.requests(a).size, BLOCKS)
})

test('partial pieces never exceed the memory budget; a finished piece frees its place', () => {
  const budget = 2
  const { scheduler, picker } = setup(8, budget)
  const peers = [0, 1, 2].map((i) => fake(`p${i}`, 8, 'all'))
  // Each peer takes one piece's blocks; left alone, one peer would start every piece allowed.
  const asked = peers.map((p) => drain(scheduler, p, BLOCKS))
  assert.equal(scheduler.partials.size, budget)
  assert.deepEqual(asked[2], [], 'a third peer started a piece past the budget')
  // p0 delivers its whole piece: it completes, is stored, and the third peer may start one.
  let done = null
  for (const req of asked[0]!) done = scheduler.receive(peers[0]!, req.index, req.begin, block(req)) ?? done
  assert.ok(done?.complete)
  assert.deepEqual([...done.contributors], [peers[0]])
  scheduler.finish(done.index)
  picker.markHave(done.index)
  assert.equal(scheduler.partials.size, budget - 1)
  assert.equal(pieces(drain(scheduler, peers[2]!, BLOCKS)).length, 1)
  assert.equal(scheduler.partials.size, budget)
})

test('a peer that chokes us gives its requests back; the next peer adopts its piece and is asked only for the blocks still missing', () => {
  const { scheduler } = setup(4, 2)
  const a = fake('a', 4, 'all')
  const b = fake('b', 4, 'all')
  const reqs = drain(scheduler, a, BLOCKS)
  assert.equal(reqs.length, BLOCKS)
  // Two blocks arrive, then a chokes.
  for (const req of reqs.slice(0, 2)) scheduler.receive(a, req.index, req.begin, block(req))
  scheduler.release(a, true)
  assert.equal(scheduler.requests(a).size, 0)
  assert.equal(scheduler.partials.get(reqs[0]!.index)!.owner, null, 'the piece is still a\'s')
  const adopted = drain(scheduler, b, 2)
  assert.deepEqual(adopted.map((r) => [r.index, r.begin]), reqs.slice(2).map((r) => [r.index, r.begin]))
  assert.equal(scheduler.partials.get(reqs[0]!.index)!.owner, b)
})

test('a rejected request goes back and is asked again; a reject for a block never asked changes nothing', () => {
  const { scheduler } = setup(2, 2)
  const a = fake('a', 2, 'all')
  const reqs = drain(scheduler, a, BLOCKS)
  scheduler.giveBack(a, reqs[1]!)
  scheduler.giveBack(a, { index: 1 - reqs[0]!.index, begin: 0, length: BLOCK_SIZE })
  assert.equal(scheduler.requests(a).size, BLOCKS - 1)
  assert.deepEqual(scheduler.next(a), reqs[1])
})

test('only pieces a peer has are asked of it, and what it no longer has (BEP54) is given back', () => {
  const { scheduler } = setup(4, 4)
  const a = fake('a', 4, [2])
  const reqs = drain(scheduler, a)
  assert.deepEqual(pieces(reqs), [2])
  scheduler.forget(a, 2)
  assert.equal(scheduler.requests(a).size, 0)
  assert.equal(scheduler.partials.get(2)!.owner, null)
  assert.deepEqual(drain(scheduler, fake('b', 4, [0])).map((r) => r.index), [0, 0, 0, 0])
})

test('end-game: once every wanted piece is started, only a peer with no requests is asked for a block already asked of another', () => {
  const { scheduler } = setup(1, 1)
  const a = fake('a', 1, 'all')
  const b = fake('b', 1, 'all')
  const reqs = drain(scheduler, a)
  assert.equal(scheduler.endgame, true)
  const dup = scheduler.next(b)
  assert.ok(dup !== null, 'an idle peer got nothing in end-game')
  assert.ok(reqs.some((r) => r.index === dup.index && r.begin === dup.begin), 'the duplicate is not a block asked of a')
  assert.equal(scheduler.next(b), null, 'a peer with a request outstanding was given a second duplicate')
  // The block comes from b: a's request for it is dropped by the caller (a CANCEL), the piece goes on.
  assert.equal(scheduler.receive(b, dup.index, dup.begin, block(dup)), null)
  assert.equal(scheduler.drop(a, requestKey(dup.index, dup.begin / BLOCK_SIZE)), true)
})

test('a piece that fails its hash is dropped and picked again, and its contributors no longer own it', () => {
  const { scheduler } = setup(1, 1)
  const a = fake('a', 1, 'all')
  const reqs = drain(scheduler, a)
  let piece = null
  for (const req of reqs) piece = scheduler.receive(a, req.index, req.begin, block(req)) ?? piece
  assert.ok(piece !== null)
  scheduler.fail(piece.index)
  assert.equal(scheduler.partials.size, 0)
  const again = drain(scheduler, a)
  assert.equal(again.length, BLOCKS, 'the piece was not picked again whole')
  assert.notEqual(scheduler.partials.get(0), piece)
})

test('a later BITFIELD without a piece: its requests for that piece go back (keepHeld)', () => {
  const { scheduler } = setup(4, 4)
  const a = fake('a', 4, [1, 3])
  const reqs = drain(scheduler, a, BLOCKS + 1)
  assert.equal(pieces(reqs).length, 2)
  const lost = reqs[0]!.index
  const held = fake('a2', 4, [1, 3].filter((i) => i !== lost))
  Object.assign(a, { has: held.has, bitfield: held.bitfield })
  scheduler.keepHeld(a)
  assert.deepEqual([...scheduler.requests(a).values()].filter((r) => r.index === lost), [])
  assert.equal(scheduler.partials.get(lost)!.owner, null)
})
