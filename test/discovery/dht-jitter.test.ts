import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jittered, spread } from '../../lib/discovery/dht.js'

test('announce and lookup waits are spread over 75-100 % of the interval, so torrents that joined together drift apart', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3_600_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ms, r) => {
    const wait = jittered(ms, () => r)
    assert.ok(wait >= Math.floor(ms * 0.75) && wait <= ms, `${wait} for ${ms}`)
  }))
  const waits = new Set(Array.from({ length: 100 }, () => jittered(15 * 60_000)))
  assert.ok(waits.size > 1, 'the default source of randomness spreads them')
})

test('the first re-announce is spread over 10-100 % of the interval, so torrents seeded together re-announce over the whole of it', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3_600_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ms, r) => {
    const wait = spread(ms, () => r)
    assert.ok(wait >= Math.floor(ms * 0.1) && wait <= ms, `${wait} for ${ms}`)
  }))
  // 1,000 torrents seeded at once: with the 75-100 % jitter none would come back in the first
  // three quarters of the interval; spread, about half do.
  const interval = 15 * 60_000
  const early = Array.from({ length: 1000 }, () => spread(interval)).filter((w) => w < interval * 0.75).length
  assert.ok(early > 0 && early < 1000, `${early} of 1,000 first re-announces in the first three quarters`)
})
