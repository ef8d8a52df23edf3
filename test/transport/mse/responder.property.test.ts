import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { respond, initiate, selectFrom, RC4, PLAINTEXT } from '../../../lib/transport/mse/handshake.js'
import { TrackerlessError } from '../../../lib/errors.js'
import { FakeStream } from './pair.js'

const chunks = fc.array(fc.uint8Array({ minLength: 0, maxLength: 900 }), { maxLength: 12 })

test('the responder and the initiator end every stream of random bytes with a TrackerlessError, writing a bounded amount', async () => {
  await fc.assert(fc.asyncProperty(chunks, fc.boolean(), async (input, asResponder) => {
    const stream = new FakeStream()
    const result = asResponder
      ? respond(stream, { findInfoHash: () => new Uint8Array(20), select: selectFrom(RC4 | PLAINTEXT), timeout: 60_000 })
      : initiate(stream, { infoHash: new Uint8Array(20), provide: RC4 | PLAINTEXT, timeout: 60_000 })
    for (const chunk of input) {
      if (stream.destroyed) break
      stream.emit('data', Buffer.from(chunk))
      await new Promise((resolve) => setImmediate(resolve))
    }
    stream.destroy()
    const err = await result.then(() => null, (e: unknown) => e)
    assert.ok(err instanceof TrackerlessError, String(err))
    assert.ok(err.code === 'EPROTO', err.message)
    // Ya/Yb and PadA/PadB, and for an initiator the third message with PadC.
    assert.ok(stream.written <= 96 + 512 + 20 + 20 + 16 + 512, `wrote ${stream.written}`)
  }), { numRuns: 200 })
})
