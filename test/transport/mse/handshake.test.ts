import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { initiate, respond, selectFrom, PLAINTEXT, RC4 } from '../../../lib/transport/mse/handshake.js'
import { socketPair, responderFor } from './pair.js'
import { TrackerlessError } from '../../../lib/errors.js'

const INFO_HASH = crypto.randomBytes(20)
const OTHER = crypto.randomBytes(20)

async function collect (stream: NodeJS.EventEmitter, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let got = 0
  return await new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      chunks.push(Buffer.from(chunk)); got += chunk.length
      if (got >= bytes) resolve(Buffer.concat(chunks))
    })
  })
}

for (const [name, provide, allowed, expected] of [
  ['RC4', RC4 | PLAINTEXT, RC4 | PLAINTEXT, 'rc4'],
  ['plain text', RC4 | PLAINTEXT, PLAINTEXT, 'plaintext'],
  ['RC4 when only RC4 is offered', RC4, RC4 | PLAINTEXT, 'rc4']
] as const) {
  test(`our initiator and our responder agree on ${name} and carry data both ways`, async (t) => {
    const [a, b] = await socketPair(t)
    const ia = Buffer.from('initial payload: a BitTorrent handshake')
    const [ours, theirs] = await Promise.all([
      initiate(a, { infoHash: INFO_HASH, provide, initialPayload: ia }),
      respond(b, { ...responderFor(OTHER, INFO_HASH), select: selectFrom(allowed) })
    ])
    assert.equal(ours.method, expected)
    assert.equal(theirs.method, expected)
    assert.deepEqual(Buffer.from(theirs.infoHash), INFO_HASH)
    const big = crypto.randomBytes(300_000)
    const atB = collect(theirs.stream, ia.length + big.length)
    ours.stream.write(big)
    assert.deepEqual(await atB, Buffer.concat([ia, big]))
    const back = crypto.randomBytes(70_000)
    const atA = collect(ours.stream, back.length)
    theirs.stream.write(back)
    assert.deepEqual(await atA, back)
    if (expected === 'rc4') {
      // What crosses the network is not the plain text.
      // (prepended: the MseStream decrypts its socket's buffers in place)
      const seen = new Promise<Buffer>((resolve) => b.prependOnceListener('data', (chunk: Buffer) => resolve(Buffer.from(chunk))))
      const plain = Buffer.alloc(1000, 7)
      ours.stream.write(plain)
      assert.notDeepEqual((await seen).subarray(0, 16), plain.subarray(0, 16))
    }
  })
}

test('the responder refuses a torrent that is not open, and the initiator hears the close', async (t) => {
  const [a, b] = await socketPair(t)
  const [ours, theirs] = await Promise.allSettled([
    initiate(a, { infoHash: INFO_HASH, provide: RC4 }),
    respond(b, { ...responderFor(OTHER), select: selectFrom(RC4) })
  ])
  assert.equal(theirs.status, 'rejected')
  assert.match((theirs.reason as TrackerlessError).message, /not open here/)
  assert.equal(ours.status, 'rejected')
  assert.equal((ours.reason as TrackerlessError).code, 'EPROTO')
})

test('the responder refuses plain text offered when its policy wants RC4', async (t) => {
  const [a, b] = await socketPair(t)
  const [, theirs] = await Promise.allSettled([
    initiate(a, { infoHash: INFO_HASH, provide: PLAINTEXT }),
    respond(b, { ...responderFor(INFO_HASH), select: selectFrom(RC4) })
  ])
  assert.equal(theirs.status, 'rejected')
  assert.match((theirs.reason as TrackerlessError).message, /none of which our encryption policy allows/)
})
