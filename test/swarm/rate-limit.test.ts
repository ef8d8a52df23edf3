import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ClientRates, checkRateLimits, type RateGate } from '../../lib/swarm/rate-limit.js'
import { FakeClock } from '../helpers/fake-clock.js'

const BLOCK = 16 * 1024
/** 10 blocks a second. */
const RATE = 10 * BLOCK

/** A peer that always has another block to move through `gate`, as the uploader's pump does. */
function sender (gate: RateGate): { readonly sent: number, readonly key: object, stop (): void } {
  const key = {}
  let sent = 0
  let stopped = false
  const pump = (): void => {
    for (let i = 0; i < 10_000 && !stopped; i++) {
      if (!gate.allow(key, pump)) return
      gate.spend(BLOCK)
      sent += BLOCK
    }
  }
  pump()
  return { get sent () { return sent }, key, stop: () => { stopped = true; gate.forget(key) } }
}

/** What passes in `seconds` at `rate`: rate * seconds, plus the saved burst (0.25 s) and the block that may start a debt. */
function within (sent: number, rate: number, seconds: number, what: string): void {
  const expected = rate * seconds
  assert.ok(sent >= expected - BLOCK && sent <= expected + rate * 0.25 + BLOCK, `${what}: ${sent} bytes, expected about ${expected}`)
}

test('a client limit shared by two peers: the total is the limit, and each peer moves half', () => {
  const clock = new FakeClock()
  const client = new ClientRates({ uploadLimit: RATE }, clock)
  const torrent = client.torrent()
  const a = sender(torrent.up)
  const b = sender(torrent.up)
  clock.tick(10_000)
  within(a.sent + b.sent, RATE, 10, 'both')
  assert.ok(Math.abs(a.sent - b.sent) <= BLOCK, `a ${a.sent}, b ${b.sent}: one block apart at most`)
})

test('a torrent limit under the client limit: that torrent gets its limit, the other the rest', () => {
  const clock = new FakeClock()
  const client = new ClientRates({ downloadLimit: RATE }, clock)
  const slow = client.torrent({ downloadLimit: RATE / 5 })
  const free = client.torrent()
  const a = sender(slow.down)
  const b = sender(free.down)
  clock.tick(10_000)
  within(a.sent, RATE / 5, 10, 'the limited torrent')
  within(a.sent + b.sent, RATE, 10, 'the client')
})

test('two torrents under one client limit share it equally, per peer', () => {
  const clock = new FakeClock()
  const client = new ClientRates({ downloadLimit: RATE }, clock)
  const first = sender(client.torrent().down)
  const second = sender(client.torrent().down)
  clock.tick(10_000)
  assert.ok(Math.abs(first.sent - second.sent) <= BLOCK, `${first.sent} and ${second.sent}`)
})

test('a newcomer queues behind the peers waiting, instead of taking their turn', () => {
  const clock = new FakeClock()
  const torrent = new ClientRates({ uploadLimit: RATE }, clock).torrent()
  const order: string[] = []
  /** Moves one block when woken, as a pump does. */
  const peer = (name: string): { key: object, wake: () => void } => {
    const key = {}
    const wake = (): void => {
      if (!torrent.up.allow(key, wake)) return
      order.push(name)
      torrent.up.spend(BLOCK)
    }
    return { key, wake }
  }
  const a = peer('a')
  const b = peer('b')
  assert.equal(torrent.up.allow(a.key, a.wake), true)
  torrent.up.spend(BLOCK)
  assert.equal(torrent.up.allow(a.key, a.wake), false)
  clock.tick(99)
  assert.equal(torrent.up.allow(b.key, b.wake), false, 'the bucket refilled only in part')
  clock.tick(1)
  assert.deepEqual(order, ['a'], 'the first to wait goes first')
  clock.tick(100)
  assert.deepEqual(order, ['a', 'b'])
})

test('no timer without waiters; a peer that leaves, and a torrent that closes, leave the line', () => {
  const clock = new FakeClock()
  const client = new ClientRates({ uploadLimit: RATE }, clock)
  const torrent = client.torrent()
  const a = sender(torrent.up)
  assert.equal(clock.pending, 1)
  a.stop()
  assert.equal(clock.pending, 0)
  const sent = a.sent
  clock.tick(1000)
  assert.equal(a.sent, sent)
  sender(torrent.up)
  sender(torrent.up)
  torrent.close()
  assert.equal(clock.pending, 0)
  assert.equal(client.upThrottle.size, 0)
})

test('lifting a limit wakes the waiting peers at once; unlimited gates never wait', () => {
  const clock = new FakeClock()
  const client = new ClientRates({}, clock)
  const torrent = client.torrent({ uploadLimit: 1 })
  let woken = 0
  torrent.up.allow({}, () => {})
  torrent.up.spend(BLOCK)
  torrent.up.allow({}, () => { woken++ })
  torrent.set({ uploadLimit: 0 })
  clock.tick(0)
  assert.equal(woken, 1)
  const free = client.torrent()
  for (let i = 0; i < 100; i++) { assert.equal(free.down.allow({}, () => {}), true); free.down.spend(BLOCK) }
  assert.equal(clock.pending, 0)
})

test('limits are validated: a negative, NaN or non-number limit is ERR_INVALID_ARG_VALUE naming the option', () => {
  for (const bad of [-1, NaN, '5', null]) {
    assert.throws(() => checkRateLimits({ downloadLimit: bad as number }), { code: 'ERR_INVALID_ARG_VALUE', message: /"downloadLimit"/ })
    assert.throws(() => new ClientRates({ uploadLimit: bad as number }), { code: 'ERR_INVALID_ARG_VALUE', message: /"uploadLimit"/ })
  }
  assert.deepEqual(checkRateLimits({ downloadLimit: Infinity, uploadLimit: 0 }), { downloadLimit: 0, uploadLimit: 0 })
  const torrent = new ClientRates().torrent({ downloadLimit: 5 })
  assert.throws(() => torrent.set({ uploadLimit: 7, downloadLimit: -1 }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.deepEqual(torrent.limits, { downloadLimit: 5, uploadLimit: 0 }, 'a refused set changes nothing')
})

/**
 * A downloader as download.ts paces it: it spends a block's worth on each request, and a peer that
 * chokes it every other block answers only half of them; the rest are given back (refund).
 */
function chokedRequester (gate: RateGate, refund: boolean): { readonly received: number } {
  const key = {}
  let received = 0
  let asked = 0
  const pump = (): void => {
    for (let i = 0; i < 10_000; i++) {
      if (!gate.allow(key, pump)) return
      gate.spend(BLOCK)
      if (asked++ % 2 === 0) received += BLOCK
      else if (refund) gate.refund(BLOCK)
    }
  }
  pump()
  return { get received () { return received } }
}

test('requests a choking peer never answers are refunded: the download still runs at the limit', () => {
  for (const refund of [true, false]) {
    const clock = new FakeClock()
    const torrent = new ClientRates({ downloadLimit: RATE }, clock).torrent()
    const r = chokedRequester(torrent.down, refund)
    clock.tick(10_000)
    if (refund) within(r.received, RATE, 10, 'received with refunds')
    else assert.ok(r.received <= RATE * 10 * 0.6, `without refunds half the limit is lost: ${r.received}`)
  }
})

test('a refund to an unlimited gate or of nothing changes nothing', () => {
  const clock = new FakeClock()
  const torrent = new ClientRates({}, clock).torrent()
  torrent.down.refund(BLOCK)
  torrent.down.refund(0)
  assert.equal(torrent.down.allow({}, () => assert.fail('never woken')), true)
})
