import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ReadBudget, WINDOW, WindowCache } from '../../lib/storage/read-cache.js'

const BLOCK = 16 * 1024

/** A cache whose reads wait until the test settles them; every read is recorded. */
function controlled (budget: ReadBudget, pieceLength: number, reuse: (() => () => boolean) | null = null): {
  cache: WindowCache
  reads: Array<{ index: number, begin: number, length: number, spare: Buffer | null, settle: (ok: boolean) => void }>
} {
  const reads: Array<{ index: number, begin: number, length: number, spare: Buffer | null, settle: (ok: boolean) => void }> = []
  const cache = new WindowCache({
    budget,
    pieceLength,
    reuseWhen: reuse,
    read: (index, begin, length, spare) => new Promise<Buffer>((resolve, reject) => {
      reads.push({
        index, begin, length, spare,
        settle: (ok) => {
          if (!ok) return reject(new Error('EIO'))
          const data = spare ?? Buffer.allocUnsafe(length)
          data.fill(index & 0xff)
          data.writeUInt32BE(begin, 0)
          resolve(data)
        }
      })
    })
  })
  return { cache, reads }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

test('a 16 MiB piece is read in 1 MiB windows, and a block request reads only its window', async () => {
  const budget = new ReadBudget(4 * WINDOW)
  const { cache, reads } = controlled(budget, 16 * WINDOW)
  const slot = cache.slot(3, 5 * WINDOW + 7 * BLOCK, BLOCK, 16 * WINDOW)
  assert.ok(slot !== null)
  assert.deepEqual(reads.map(({ index, begin, length }) => ({ index, begin, length })), [{ index: 3, begin: 5 * WINDOW, length: WINDOW }])
  assert.equal(budget.usedBytes, WINDOW)
  assert.equal(cache.slot(3, WINDOW - BLOCK / 2, BLOCK, 16 * WINDOW), null, 'a range across two windows is not cached')
  reads[0]!.settle(true)
  await slot.loading
  assert.equal(cache.cached(3, 5 * WINDOW, 4)!.readUInt32BE(0), 5 * WINDOW)
  assert.equal(cache.cached(3, 4 * WINDOW, 4), null)
})

test('loads of one window in flight are shared, never dropped while pending, and the budget counts them', async () => {
  const budget = new ReadBudget(2 * WINDOW)
  const { cache, reads } = controlled(budget, 4 * WINDOW)
  const a = cache.slot(0, 0, BLOCK, 4 * WINDOW)
  const again = cache.slot(0, BLOCK, BLOCK, 4 * WINDOW)
  assert.ok(a !== null && again === a, 'the second request of the window waits on the first read')
  const b = cache.slot(1, 0, BLOCK, 4 * WINDOW)
  assert.ok(b !== null)
  assert.equal(reads.length, 2)
  assert.equal(budget.usedBytes, 2 * WINDOW)
  // Both reads are in flight: nothing can be evicted, so a third window is not cached.
  assert.equal(cache.slot(2, 0, BLOCK, 4 * WINDOW), null, 'no room while the budget is all in reads in flight')
  assert.equal(reads.length, 2, 'and nothing was read for it')
  reads[0]!.settle(true)
  reads[1]!.settle(true)
  await Promise.all([a.loading, b.loading])
  assert.ok(cache.cached(0, 0, BLOCK) !== null && cache.cached(1, 0, BLOCK) !== null, 'both loads stayed cached')
  cache.cached(0, 0, BLOCK)
  // Now the least recently used window (1, since 0 was just asked for) makes room.
  const c = cache.slot(2, 0, BLOCK, 4 * WINDOW)
  assert.ok(c !== null)
  assert.equal(cache.cached(1, 0, BLOCK), null)
  assert.notEqual(cache.cached(0, 0, BLOCK), null)
  reads[2]!.settle(false)
  await assert.rejects(c.loading, /EIO/)
  await tick()
  assert.equal(budget.usedBytes, WINDOW, 'a failed read gives its bytes back')
})

test('a window invalidated or closed while read is counted until its read ends, then released', async () => {
  const budget = new ReadBudget(2 * WINDOW)
  const { cache, reads } = controlled(budget, WINDOW)
  const a = cache.slot(0, 0, BLOCK, WINDOW)!
  cache.invalidate(0)
  assert.equal(budget.usedBytes, WINDOW, 'the read still holds its buffer')
  const fresh = cache.slot(0, 0, BLOCK, WINDOW)!
  assert.notEqual(fresh, a, 'a read after the invalidation reads again')
  cache.clear()
  reads[0]!.settle(true)
  reads[1]!.settle(true)
  await Promise.all([a.loading, fresh.loading])
  await tick()
  assert.equal(budget.usedBytes, 0)
  assert.equal(cache.cached(0, 0, BLOCK), null)
})

test('torrents share one budget: the least recently used window of any torrent is evicted', async () => {
  const budget = new ReadBudget(2 * WINDOW)
  const one = controlled(budget, WINDOW)
  const two = controlled(budget, WINDOW)
  one.cache.slot(0, 0, BLOCK, WINDOW)
  two.cache.slot(0, 0, BLOCK, WINDOW)
  for (const r of [...one.reads, ...two.reads]) r.settle(true)
  await tick()
  one.cache.cached(0, 0, BLOCK)
  assert.ok(two.cache.slot(1, 0, BLOCK, WINDOW) !== null)
  assert.equal(two.cache.cached(0, 0, BLOCK), null, "the other torrent's older window made room")
  assert.notEqual(one.cache.cached(0, 0, BLOCK), null)
})

test('a dropped buffer counts until sent, then is read into again', async () => {
  let sent = false
  const budget = new ReadBudget(WINDOW)
  const { cache, reads } = controlled(budget, WINDOW, () => () => sent)
  cache.slot(0, 0, BLOCK, WINDOW)
  reads[0]!.settle(true)
  await tick()
  const first = cache.cached(0, 0, BLOCK)!.buffer
  assert.equal(cache.slot(1, 0, BLOCK, WINDOW), null, 'evicted but not yet sent: still counted')
  sent = true
  assert.ok(cache.slot(1, 0, BLOCK, WINDOW) !== null)
  assert.equal(reads[1]!.spare?.buffer, first, 'the sent buffer is handed to the next read')
})

test('property: whatever blocks are asked, loaded, failed and dropped, the budget is never exceeded and every cached block is right', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('ask' as const), piece: fc.nat(7), block: fc.nat(255) }),
    fc.record({ kind: fc.constant('settle' as const), which: fc.nat(), ok: fc.boolean() }),
    fc.record({ kind: fc.constant('invalidate' as const), piece: fc.nat(7) }),
    fc.record({ kind: fc.constant('sent' as const), value: fc.boolean() })
  )
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 80 }), async (windows, ops) => {
    let sent = false
    const pieceLength = 4 * WINDOW
    const budget = new ReadBudget(windows * WINDOW)
    const { cache, reads } = controlled(budget, pieceLength, () => () => sent)
    const pending = new Set<(typeof reads)[number]>()
    let seen = 0
    for (const o of ops) {
      if (o.kind === 'ask') {
        const begin = o.block * BLOCK
        cache.slot(o.piece, begin, BLOCK, pieceLength)
        const hit = cache.cached(o.piece, begin, BLOCK)
        if (hit !== null) {
          assert.equal(hit.length, BLOCK)
          if (begin % WINDOW === 0) assert.equal(hit.readUInt32BE(0), begin)
          assert.equal(hit[hit.length - 1], o.piece & 0xff)
        }
      } else if (o.kind === 'settle') {
        for (; seen < reads.length; seen++) pending.add(reads[seen]!)
        const list = [...pending]
        if (list.length === 0) continue
        const r = list[o.which % list.length]!
        pending.delete(r)
        r.settle(o.ok)
        await tick()
      } else if (o.kind === 'invalidate') {
        cache.invalidate(o.piece)
      } else {
        sent = o.value
      }
      assert.ok(budget.usedBytes <= budget.bytes, `${budget.usedBytes} bytes counted, budget ${budget.bytes}`)
      // A read in flight holds its buffer whatever became of its window: it must still be counted.
      for (; seen < reads.length; seen++) pending.add(reads[seen]!)
      let inFlight = 0
      for (const r of pending) inFlight += r.length
      assert.ok(budget.usedBytes >= inFlight, `${budget.usedBytes} bytes counted with ${inFlight} being read`)
    }
    for (; seen < reads.length; seen++) pending.add(reads[seen]!)
    for (const r of pending) r.settle(true)
    await tick()
    cache.clear()
    sent = true
    assert.ok(budget.usedBytes <= budget.bytes)
  }), { numRuns: 200 })
})
