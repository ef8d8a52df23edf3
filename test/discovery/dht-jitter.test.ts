import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jittered } from '../../lib/discovery/dht.js'

test('announce and lookup waits are spread over 75-100 % of the interval, so torrents that joined together drift apart', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 3_600_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (ms, r) => {
    const wait = jittered(ms, () => r)
    assert.ok(wait >= Math.floor(ms * 0.75) && wait <= ms, `${wait} for ${ms}`)
  }))
  const waits = new Set(Array.from({ length: 100 }, () => jittered(15 * 60_000)))
  assert.ok(waits.size > 1, 'the default source of randomness spreads them')
})
