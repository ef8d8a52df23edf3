import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { encode, ST_SYN } from '../../../lib/transport/utp/packet.js'
import { UtpTransport } from '../../../lib/transport/utp/transport.js'

describe('uTP half-open connections', () => {
  // A SYN and then silence: the connection nobody was handed times out. Its 'error' had no
  // listener and ended the process (seen in bench/scale-peers.ts with 200 clients).
  it('a peer that sends a SYN and nothing more cannot crash the listener when it times out', { timeout: 10_000 }, async () => {
    const t = new UtpTransport({ connectTimeout: 1000 })
    const port = await t.listen(0, '127.0.0.1', () => assert.fail('a SYN alone must not reach the listener'))
    const raw = dgram.createSocket('udp4')
    raw.bind(0, '127.0.0.1')
    await once(raw, 'listening')
    raw.send(encode({ type: ST_SYN, connectionId: 500, timestamp: 1, timestampDiff: 0, window: 1 << 20, seq: 1, ack: 0, payload: Buffer.alloc(0) }), port, '127.0.0.1')
    const s = t.socket('udp4')!
    for (let i = 0; i < 200 && s.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(s.halfOpenCount, 1, 'the SYN made a half-open connection')
    for (let i = 0; i < 500 && s.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(s.size, 0, 'the half-open connection timed out')
    assert.equal(s.halfOpenCount, 0)
    // The timeout's events are emitted on the next tick: give them a turn before closing.
    await new Promise((resolve) => setTimeout(resolve, 50))
    raw.close()
    await t.close()
  })
})
