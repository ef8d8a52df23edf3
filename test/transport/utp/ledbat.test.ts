import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Ledbat, TARGET_DELAY_US } from '../../../lib/transport/utp/ledbat.js'

const MSS = 1400
const MAX = 1 << 20
/** The base one-way delay (plus the clock offset the peer's timestamp_difference carries), microseconds. */
const BASE = 5_000_000

/** A controller past slow start, at `cwnd`, that has seen the path's base delay. */
function steady (cwnd: number): Ledbat {
  const cc = new Ledbat(MSS, MAX, 0)
  cc.onAck(0, BASE, 0)
  cc.onLoss()
  cc.cwnd = cwnd
  return cc
}

/** One window's worth of acks, a packet at a time, each reporting `queuing` over the base. */
function window (cc: Ledbat, queuing: number): void {
  const bytes = cc.cwnd
  for (let acked = 0; acked < bytes; acked += MSS) cc.onAck(MSS, BASE + queuing, 1)
}

test('LEDBAT below the target grows by at most one packet per window, and by less the nearer the delay is to the target', () => {
  fc.assert(fc.property(fc.integer({ min: 4, max: 400 }), fc.integer({ min: 0, max: TARGET_DELAY_US - 1 }), (packets, queuing) => {
    const cc = steady(packets * MSS)
    const before = cc.cwnd
    window(cc, queuing)
    assert.ok(cc.cwnd > before)
    assert.ok(cc.cwnd - before <= MSS * 1.01, `grew ${cc.cwnd - before} bytes in a window`)
  }), { numRuns: 200 })
})

test('LEDBAT above the target shrinks in proportion to the window, at most halving per window (LEDBAT++)', () => {
  // Twice the target: the window halves within one window of acks, where RFC 6817's rule took one
  // packet off per window (a 100-packet window would need about 100 windows to halve).
  const cc = steady(100 * MSS)
  window(cc, 2 * TARGET_DELAY_US)
  assert.ok(cc.cwnd <= 0.65 * 100 * MSS, `${cc.cwnd / MSS} packets after one window at twice the target`)
  assert.ok(cc.cwnd >= 0.5 * 100 * MSS * 0.9, 'no faster than halving')
  fc.assert(fc.property(fc.integer({ min: 4, max: 400 }), fc.integer({ min: TARGET_DELAY_US + 1, max: 10 * TARGET_DELAY_US }), (packets, queuing) => {
    const c = steady(packets * MSS)
    const before = c.cwnd
    window(c, queuing)
    const over = queuing / TARGET_DELAY_US - 1
    // The per-window change: + one packet − (delay/target − 1) of the window, floored at −half.
    const expected = Math.max(MSS - over * before, -before / 2)
    if (expected < 0) assert.ok(c.cwnd < before, `${packets} packets at ${queuing} us: shrank`)
    assert.ok(c.cwnd >= Math.max(MSS, before / 2 * 0.9), 'never below half per window, nor below a packet')
  }), { numRuns: 200 })
})

test('a queue that never reaches 100 ms (a router\'s tbf latency) still makes LEDBAT yield', () => {
  // 80 ms of queueing: under RFC 6817's 100 ms target this window grew; it must shrink.
  const cc = steady(200 * MSS)
  for (let i = 0; i < 10; i++) window(cc, 80_000)
  assert.ok(cc.cwnd < 200 * MSS / 2, `${cc.cwnd / MSS} packets after 10 windows at 80 ms`)
})

test('the window settles where the queueing delay is the target: it grows below and shrinks above', () => {
  const cc = steady(50 * MSS)
  // A path whose queue grows with the window: 1 ms of queue per packet over 10.
  for (let i = 0; i < 300; i++) window(cc, Math.max(0, (cc.cwnd / MSS - 10) * 1000))
  const queuing = (cc.cwnd / MSS - 10) * 1000
  assert.ok(Math.abs(queuing - TARGET_DELAY_US) <= 5000, `settled at ${queuing} us of queueing`)
})
