/**
 * The fuzz target for the MSE/PE initiator (our outgoing side): a responder that gets further
 * than random bytes can, with a valid Diffie-Hellman value and fields encrypted under the real
 * keys, then padding lengths, crypto_select values and trailing bytes of any kind, cut in chunks
 * of any size. The handshake must end in a stream of a method we offered, or in EPROTO, having
 * written no more than its own three messages.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { initiate, PLAINTEXT, RC4, MAX_PAD } from '../../lib/transport/mse/handshake.js'
import { KEY_BYTES, VC, cipherOf, createKeyPair } from '../../lib/transport/mse/keys.js'
import { TrackerlessError } from '../../lib/errors.js'
import { FakeStream } from '../transport/mse/pair.js'
import type { FuzzTarget } from './targets.js'

const SKEY = Buffer.alloc(20, 9)
const IA = Buffer.alloc(68, 1)

const script = fc.record({
  /** How far the responder follows the protocol before the tail: not at all, Yb, or Yb and its fields. */
  stage: fc.constantFrom('none', 'yb', 'fields'),
  provide: fc.constantFrom(RC4, RC4 | PLAINTEXT),
  padB: fc.oneof(fc.nat(MAX_PAD), fc.constantFrom(MAX_PAD + 1, 700)),
  select: fc.oneof(fc.constantFrom(0, PLAINTEXT, RC4, RC4 | PLAINTEXT), fc.nat(0xffffffff)),
  padD: fc.oneof(fc.nat(MAX_PAD), fc.constantFrom(MAX_PAD + 1, 0xffff)),
  /** Bytes past the script: garbage, or the peer's first bytes after the handshake. */
  tail: fc.uint8Array({ maxLength: 1000 }),
  chunk: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 64, max: 1500 }))
})

type Script = typeof script extends fc.Arbitrary<infer T> ? T : never

/** What the responder sends, given the initiator's first message (Ya, PadA). */
function responderBytes (s: Script, ya: Buffer): Buffer {
  if (s.stage === 'none') return Buffer.from(s.tail)
  const keys = createKeyPair()
  const secret = keys.secret(ya.subarray(0, KEY_BYTES))
  assert.ok(secret !== null, 'our initiator sent an invalid public value')
  const parts = [keys.publicKey, Buffer.alloc(s.padB, 0x5a)]
  if (s.stage === 'fields') {
    const fields = Buffer.alloc(8 + 4 + 2 + Math.min(s.padD, MAX_PAD + 1))
    Buffer.from(VC).copy(fields)
    fields.writeUInt32BE(s.select, 8)
    fields.writeUInt16BE(s.padD, 12)
    parts.push(cipherOf('B', secret, SKEY).update(fields))
  }
  parts.push(Buffer.from(s.tail))
  return Buffer.concat(parts)
}

async function check (s: Script): Promise<void> {
  const stream = new FakeStream()
  const settled = initiate(stream, { infoHash: SKEY, provide: s.provide, initialPayload: IA, timeout: 60_000 }).then((r) => r, (e: unknown) => e)
  const ya = stream.chunks[0]
  assert.ok(ya !== undefined && ya.length >= KEY_BYTES, 'the initiator did not open with its public value')
  const bytes = responderBytes(s, ya)
  for (let at = 0; at < bytes.length && !stream.destroyed; at += s.chunk) {
    stream.emit('data', bytes.subarray(at, at + s.chunk))
    await new Promise((resolve) => setImmediate(resolve))
  }
  stream.destroy()
  const outcome = await settled
  if (outcome instanceof Error) {
    assert.ok(outcome instanceof TrackerlessError && outcome.code === 'EPROTO', String(outcome))
  } else {
    const { method } = outcome as { method: string }
    // Only a responder that followed the protocol to its end gets a stream.
    assert.equal(s.stage, 'fields')
    assert.ok(s.padB <= MAX_PAD && s.padD <= MAX_PAD, `accepted padding of ${s.padB} and ${s.padD} bytes`)
    assert.ok((s.select === RC4 || s.select === PLAINTEXT) && (s.select & s.provide) !== 0, `accepted crypto_select ${s.select} for ${s.provide}`)
    assert.equal(method, s.select === RC4 ? 'rc4' : 'plaintext')
  }
  // Ya and PadA, then HASH('req1'), HASH('req2') xor HASH('req3'), VC, crypto_provide, PadC, IA.
  assert.ok(stream.written <= KEY_BYTES + MAX_PAD + 20 + 20 + 16 + MAX_PAD + IA.length, `wrote ${stream.written}`)
}

export const mseInitiatorTarget: FuzzTarget = {
  name: 'mse/initiator',
  check: (budget) => fc.assert(fc.asyncProperty(script, check), { numRuns: budget.numRuns, interruptAfterTimeLimit: budget.timeLimit, markInterruptAsFailure: false })
}
