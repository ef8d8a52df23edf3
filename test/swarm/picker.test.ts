import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { PiecePicker, type PeerPieces } from '../../lib/swarm/picker.js'
import { seeded } from '../helpers/seeded-random.js'
import { Bitfield } from '../../lib/util/bitfield.js'

function bits (length: number, pieces: number[]): Bitfield {
  const b = new Bitfield(length)
  for (const p of pieces) b.set(p)
  return b
}

/** Picks and starts pieces until none is left, returning them in pick order. */
function drain (picker: PiecePicker, peer: PeerPieces, limit = 10_000): number[] {
  const picked: number[] = []
  for (let i = 0; i < limit; i++) {
    const piece = picker.pick(peer)
    if (piece === -1) break
    picked.push(piece)
    picker.markStarted(piece)
  }
  return picked
}

test('picks the rarest pieces first', () => {
  const picker = new PiecePicker(6, { random: seeded(1) })
  // availability: 0:3, 1:1, 2:2, 3:0 (nobody), 4:1, 5:3
  picker.addPeer(bits(6, [0, 1, 2, 5]))
  picker.addPeer(bits(6, [0, 2, 4, 5]))
  picker.addPeer(bits(6, [0, 5]))
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => picker.availability(i)), [3, 1, 2, 0, 1, 3])
  const order = drain(picker, 'all')
  assert.equal(order[0], 3)
  assert.deepEqual(new Set(order.slice(1, 3)), new Set([1, 4]))
  assert.equal(order[3], 2)
  assert.deepEqual(new Set(order.slice(4)), new Set([0, 5]))
})

test('availability changes reorder the picks', () => {
  const picker = new PiecePicker(3, { random: seeded(2) })
  const a = bits(3, [0, 1, 2])
  const b = bits(3, [])
  picker.addPeer(a)
  picker.addPeer(b)
  assert.equal(picker.peerHas(b, 0), true)
  assert.equal(picker.peerHas(b, 0), false, 'a repeated HAVE counts once')
  assert.equal(picker.peerHas(b, 1), true)
  assert.equal(picker.availability(0), 2)
  assert.equal(picker.pick(a), 2)
  picker.removePeer(a)
  assert.equal(picker.availability(2), 0)
  assert.equal(picker.pick(b) === 0 || picker.pick(b) === 1, true)
  assert.equal(picker.pick(a), 2, 'an unregistered bitfield is served too')
  assert.equal(picker.pick(bits(3, [])), -1)
})

test('ties are broken by the seeded shuffle: same seed same order, other seeds differ', () => {
  const orderFor = (seed: number): number[] => drain(new PiecePicker(64, { random: seeded(seed) }), 'all')
  const first = orderFor(7)
  assert.deepEqual(orderFor(7), first)
  assert.deepEqual([...first].sort((x, y) => x - y), Array.from({ length: 64 }, (_, i) => i))
  assert.notDeepEqual(orderFor(8), first)
  assert.notDeepEqual(orderFor(9), first)
})

test('seeds add to availability without changing the order', () => {
  const build = (seeds: number): PiecePicker => {
    const picker = new PiecePicker(32, { random: seeded(3) })
    for (let p = 0; p < 5; p++) picker.addPeer(bits(32, Array.from({ length: 32 }, (_, i) => i).filter((i) => (i * 7 + p) % 5 < p)))
    for (let s = 0; s < seeds; s++) picker.addSeed()
    return picker
  }
  const plain = build(0)
  const seeded3 = build(3)
  assert.equal(seeded3.availability(0), plain.availability(0) + 3)
  assert.deepEqual(drain(seeded3, 'all'), drain(plain, 'all'))
  const picker = build(1)
  picker.removeSeed()
  assert.throws(() => picker.removeSeed(), RangeError)
})

test('had and started pieces are not picked; abandoned ones are again', () => {
  const have = bits(4, [1])
  const picker = new PiecePicker(4, { have, random: seeded(4) })
  assert.equal(picker.wantedRemaining, 3)
  assert.equal(picker.has(1), true)
  picker.markHave(2)
  picker.markHave(2)
  assert.equal(picker.wantedRemaining, 2)
  picker.markStarted(0)
  assert.equal(picker.pick('all'), 3)
  picker.markStarted(3)
  assert.equal(picker.pick('all'), -1)
  picker.markAbandoned(0)
  assert.equal(picker.pick('all'), 0)
  picker.markHave(0)
  picker.markAbandoned(0)
  assert.equal(picker.pick('all'), -1, 'abandoning a had piece does not bring it back')
  assert.equal(picker.wantedRemaining, 1)
  picker.markHave(3)
  assert.equal(picker.wantedRemaining, 0)
  assert.throws(() => picker.markHave(4), RangeError)
  assert.throws(() => picker.markStarted(-1), RangeError)
})

test('unwanted pieces are not picked rarest-first and do not count as remaining', () => {
  const picker = new PiecePicker(4, { random: seeded(5) })
  picker.setWanted(0, false)
  picker.setWanted(2, false)
  picker.setWanted(2, false)
  assert.equal(picker.wantedRemaining, 2)
  assert.deepEqual(new Set(drain(picker, 'all')), new Set([1, 3]))
  picker.setWanted(2, true)
  assert.equal(picker.wantedRemaining, 3)
  assert.equal(picker.pick('all'), 2)
  picker.markHave(2)
  picker.setWanted(2, false)
  picker.setWanted(2, true)
  assert.equal(picker.wantedRemaining, 2, 'a had piece never counts as remaining')
})

test('priority ranges come first, lowest index first, and only what the peer has', () => {
  const picker = new PiecePicker(20, { random: seeded(6) })
  const peer = bits(20, [3, 5, 6, 7, 12, 15, 19])
  picker.addPeer(peer)
  const a = picker.addPriority(4, 8)
  const b = picker.addPriority(14, 16)
  assert.deepEqual(drain(picker, peer, 4), [5, 6, 7, 15])
  const c = picker.addPriority(2, 6)
  picker.markAbandoned(5)
  assert.equal(picker.pick(peer), 3, 'overlapping ranges: lowest index of their union')
  picker.markHave(3)
  assert.equal(picker.pick(peer), 5)
  picker.removePriority(a)
  picker.removePriority(c)
  picker.removePriority(c)
  picker.removePriority(b)
  assert.deepEqual(new Set(drain(picker, peer)), new Set([5, 12, 19]))
  assert.throws(() => picker.addPriority(5, 4), RangeError)
  assert.throws(() => picker.addPriority(0, 20), RangeError)
})

test('a priority range fetches unwanted pieces (lazy download)', () => {
  const picker = new PiecePicker(10, { random: seeded(7) })
  for (let i = 0; i < 10; i++) picker.setWanted(i, false)
  assert.equal(picker.pick('all'), -1)
  assert.equal(picker.isInteresting('all'), false)
  const handle = picker.addPriority(6, 7)
  assert.equal(picker.isInteresting('all'), true)
  assert.deepEqual(drain(picker, 'all'), [6, 7])
  picker.markAbandoned(7)
  picker.removePriority(handle)
  assert.equal(picker.pick('all'), -1)
  assert.equal(picker.isInteresting('all'), false)
})

test('have-all peers and BEP54 DONTHAVE', () => {
  const picker = new PiecePicker(8, { random: seeded(8) })
  picker.addSeed()
  assert.equal(picker.availability(5), 1)
  // The seed sends DONTHAVE 5: it becomes a partial peer with every bit but that one.
  picker.removeSeed()
  const former = bits(8, [])
  former.setAll()
  picker.addPeer(former)
  assert.equal(picker.peerLost(former, 5), true)
  assert.equal(picker.peerLost(former, 5), false)
  assert.equal(picker.availability(5), 0)
  assert.equal(picker.availability(4), 1)
  assert.ok(!drain(picker, former).includes(5))
  assert.equal(picker.pick('all'), 5)
  assert.throws(() => picker.peerHas(bits(8, []), 1), RangeError)
  assert.throws(() => picker.addPeer(bits(9, [])), RangeError)
})

test('isInteresting follows HAVEs, completed pieces and file selection', () => {
  const picker = new PiecePicker(6, { have: bits(6, [0]), random: seeded(9) })
  const peer = bits(6, [0])
  picker.addPeer(peer)
  assert.equal(picker.isInteresting(peer), false, 'it has only what we have')
  picker.peerHas(peer, 3)
  assert.equal(picker.isInteresting(peer), true)
  picker.setWanted(3, false)
  assert.equal(picker.isInteresting(peer), false)
  const h = picker.addPriority(3, 3)
  assert.equal(picker.isInteresting(peer), true)
  picker.markHave(3)
  assert.equal(picker.isInteresting(peer), false)
  picker.removePriority(h)
  picker.peerHas(peer, 4)
  assert.equal(picker.isInteresting(peer), true)
  picker.peerLost(peer, 4)
  assert.equal(picker.isInteresting(peer), false)
  assert.equal(picker.isInteresting(bits(6, [1])), true, 'an unregistered bitfield is checked directly')
  assert.equal(picker.isInteresting(bits(6, [0, 3])), false)
  for (const i of [1, 2, 4, 5]) picker.markHave(i)
  assert.equal(picker.isInteresting('all'), false)
})

/** The obvious O(n) picker, to check the fast one against. */
class ReferencePicker {
  readonly holders: number[]
  readonly have: boolean[]
  readonly started: boolean[]
  readonly wanted: boolean[]
  readonly ranges = new Map<number, [number, number]>()
  seeds = 0

  constructor (readonly n: number) {
    this.holders = new Array<number>(n).fill(0)
    this.have = new Array<boolean>(n).fill(false)
    this.started = new Array<boolean>(n).fill(false)
    this.wanted = new Array<boolean>(n).fill(true)
  }

  covered (i: number): boolean {
    for (const [first, last] of this.ranges.values()) if (i >= first && i <= last) return true
    return false
  }

  needed (i: number): boolean {
    return !this.have[i] && (this.wanted[i]! || this.covered(i))
  }

  /** The priority piece to pick, or the set of equally rare candidates. */
  expected (peerHas: (i: number) => boolean): number | Set<number> {
    for (let i = 0; i < this.n; i++) {
      if (this.covered(i) && !this.have[i] && !this.started[i] && peerHas(i)) return i
    }
    let best = Infinity
    let ties = new Set<number>()
    for (let i = 0; i < this.n; i++) {
      if (!this.wanted[i] || this.have[i] || this.started[i] || !peerHas(i)) continue
      if (this.holders[i]! < best) {
        best = this.holders[i]!
        ties = new Set()
      }
      if (this.holders[i] === best) ties.add(i)
    }
    return ties.size === 0 ? -1 : ties
  }
}

type Op =
  | { kind: 'addPeer', bits: boolean[] }
  | { kind: 'removePeer' | 'addSeed' | 'removeSeed', k: number }
  | { kind: 'peerHas' | 'peerLost' | 'markHave' | 'markStarted' | 'markAbandoned' | 'removePriority', k: number, i: number }
  | { kind: 'setWanted', i: number, wanted: boolean }
  | { kind: 'addPriority', i: number, len: number }

const MAX_PIECES = 40

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('addPeer' as const), bits: fc.array(fc.boolean(), { minLength: MAX_PIECES, maxLength: MAX_PIECES }) }),
  fc.record({ kind: fc.constantFrom('removePeer' as const, 'addSeed' as const, 'removeSeed' as const), k: fc.nat(20) }),
  fc.record({
    kind: fc.constantFrom('peerHas' as const, 'peerHas' as const, 'peerLost' as const, 'markHave' as const, 'markStarted' as const, 'markAbandoned' as const, 'removePriority' as const),
    k: fc.nat(20),
    i: fc.nat(MAX_PIECES - 1)
  }),
  fc.record({ kind: fc.constant('setWanted' as const), i: fc.nat(MAX_PIECES - 1), wanted: fc.boolean() }),
  fc.record({ kind: fc.constant('addPriority' as const), i: fc.nat(MAX_PIECES - 1), len: fc.nat(6) })
)

test('property: pick agrees with a naive reference on random operation sequences', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_PIECES }), fc.array(opArb, { maxLength: 120 }), fc.integer(), (n, ops, seed) => {
      const picker = new PiecePicker(n, { random: seeded(seed) })
      const ref = new ReferencePicker(n)
      const peers: Bitfield[] = []
      const handles: number[] = []
      const outsider = bits(n, [0, n - 1])

      const check = (peer: PeerPieces): void => {
        const has = peer === 'all' ? () => true : (i: number) => peer.get(i)
        const got = picker.pick(peer)
        const want = ref.expected(has)
        if (typeof want === 'number') assert.equal(got, want)
        else assert.ok(want.has(got), `picked ${got}, expected one of ${[...want].join(',')}`)
        const interesting = Array.from({ length: n }, (_, i) => i).some((i) => has(i) && ref.needed(i))
        assert.equal(picker.isInteresting(peer), interesting)
      }

      for (const op of ops) {
        switch (op.kind) {
          case 'addPeer': {
            const peer = bits(n, op.bits.slice(0, n).flatMap((b, i) => (b ? [i] : [])))
            picker.addPeer(peer)
            for (let i = 0; i < n; i++) if (peer.get(i)) ref.holders[i]!++
            peers.push(peer)
            break
          }
          case 'removePeer': {
            if (peers.length === 0) break
            const [peer] = peers.splice(op.k % peers.length, 1)
            picker.removePeer(peer!)
            for (let i = 0; i < n; i++) if (peer!.get(i)) ref.holders[i]!--
            break
          }
          case 'addSeed': picker.addSeed(); ref.seeds++; break
          case 'removeSeed': if (ref.seeds > 0) { picker.removeSeed(); ref.seeds-- } break
          case 'peerHas':
          case 'peerLost': {
            if (peers.length === 0) break
            const peer = peers[op.k % peers.length]!
            const i = op.i % n
            const gain = op.kind === 'peerHas'
            const changed = peer.get(i) !== gain
            assert.equal(gain ? picker.peerHas(peer, i) : picker.peerLost(peer, i), changed)
            if (changed) ref.holders[i]! += gain ? 1 : -1
            break
          }
          case 'markHave': picker.markHave(op.i % n); ref.have[op.i % n] = true; ref.started[op.i % n] = false; break
          case 'markStarted': if (!ref.have[op.i % n]) { ref.started[op.i % n] = true } picker.markStarted(op.i % n); break
          case 'markAbandoned': picker.markAbandoned(op.i % n); ref.started[op.i % n] = false; break
          case 'setWanted': picker.setWanted(op.i % n, op.wanted); ref.wanted[op.i % n] = op.wanted; break
          case 'addPriority': {
            const first = op.i % n
            const last = Math.min(n - 1, first + op.len)
            const handle = picker.addPriority(first, last)
            ref.ranges.set(handle, [first, last])
            handles.push(handle)
            break
          }
          case 'removePriority': {
            if (handles.length === 0) break
            const [handle] = handles.splice(op.k % handles.length, 1)
            picker.removePriority(handle!)
            ref.ranges.delete(handle!)
            break
          }
        }
        for (let i = 0; i < n; i++) assert.equal(picker.availability(i), ref.holders[i]! + ref.seeds)
        assert.equal(picker.wantedRemaining, ref.wanted.filter((w, i) => w && !ref.have[i]).length)
        check('all')
        check(outsider)
        for (const peer of peers) check(peer)
      }
    }),
    { numRuns: 300 }
  )
})
