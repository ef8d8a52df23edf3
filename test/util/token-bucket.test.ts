import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { TokenBucket } from '../../lib/util/token-bucket.js'

const BURST = 0.25

test('rate 0 is unlimited: always ready, no debt', () => {
  const b = new TokenBucket(0, 0, BURST)
  b.spend(1e9, 0)
  assert.equal(b.ready(0), true)
  assert.equal(b.wait(0), 0)
  assert.equal(b.unlimited, true)
})

test('a block larger than the burst goes whole, and its debt is paid at the rate', () => {
  const b = new TokenBucket(1000, 0, BURST)
  assert.equal(b.ready(0), true, 'starts at zero, which lets one block go')
  b.spend(16384, 0)
  assert.equal(b.ready(0), false)
  assert.equal(b.wait(0), 16384)
  assert.equal(b.ready(16383), false)
  assert.equal(b.ready(16384), true)
})

test('idle time saves up at most the burst', () => {
  const b = new TokenBucket(1000, 0, BURST)
  b.spend(250, 60_000)
  assert.equal(b.ready(60_000), true, 'the 250 bytes of burst saved over a minute cover 250')
  b.spend(1, 60_000)
  assert.equal(b.ready(60_000), false, 'but no more')
  assert.equal(b.wait(60_000), 1)
})

test('a new rate keeps the debt and pays it at the new rate', () => {
  const b = new TokenBucket(1000, 0, BURST)
  b.spend(2000, 0)
  b.setRate(2000, 0)
  assert.equal(b.wait(0), 1000)
  b.setRate(0, 0)
  assert.equal(b.ready(0), true, 'unlimited forgives the debt')
})

test('whatever the blocks and times, what passes in T ms is at most rate * T + burst + one block', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 10_000_000 }),
    fc.array(fc.record({ gap: fc.integer({ min: 0, max: 2000 }), size: fc.integer({ min: 1, max: 131_072 }) }), { minLength: 1, maxLength: 200 }),
    (rate, steps) => {
      const b = new TokenBucket(rate, 0, BURST)
      let now = 0
      let sent = 0
      let largest = 0
      for (const { gap, size } of steps) {
        now += gap
        if (!b.ready(now)) continue
        b.spend(size, now)
        sent += size
        largest = Math.max(largest, size)
      }
      return sent <= rate * now / 1000 + rate * BURST + largest
    }
  ))
})

test('a refund pays back a debt at once, and never saves more than the burst', () => {
  const b = new TokenBucket(1000, 0, BURST)
  b.spend(16384, 0)
  assert.equal(b.wait(0), 16384)
  b.refund(16384, 0)
  assert.equal(b.ready(0), true, 'the block never came: its debt is gone')
  b.refund(1e9, 0)
  b.spend(251, 0)
  assert.equal(b.ready(0), false, 'a refund saves at most the burst (250 bytes at 1000 B/s)')
  const unlimited = new TokenBucket(0, 0, BURST)
  unlimited.refund(1e9, 0)
  assert.equal(unlimited.unlimited, true)
})
