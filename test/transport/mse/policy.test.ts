import { test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { acceptIncoming } from '../../../lib/transport/mse/policy.js'
import { initiate, PLAINTEXT, RC4 } from '../../../lib/transport/mse/handshake.js'
import { TrackerlessError } from '../../../lib/errors.js'
import { socketPair } from './pair.js'

const INFO_HASH = crypto.randomBytes(20)
const PLAIN = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), INFO_HASH, Buffer.alloc(20)])
const options = { infoHashes: () => [INFO_HASH], timeout: 5000 }

test('a plain BitTorrent handshake passes through under \'prefer\', bytes intact', async (t) => {
  const [a, b] = await socketPair(t)
  a.write(PLAIN)
  const incoming = await acceptIncoming(b, { ...options, policy: 'prefer' })
  assert.equal(incoming.stream, b, 'plain text is read from the connection itself, without a wrapper')
  assert.deepEqual(incoming.head, PLAIN)
})

test('\'require\' refuses a plain BitTorrent handshake, saying why', async (t) => {
  const [a, b] = await socketPair(t)
  a.write(PLAIN)
  const err = await acceptIncoming(b, { ...options, policy: 'require' }).catch((e: unknown) => e)
  assert.ok(err instanceof TrackerlessError)
  assert.match(err.message, /without encryption, which encryption 'require' refuses/)
})

test('\'disable\' refuses an encryption handshake, and \'prefer\' completes one with RC4', async (t) => {
  const [a, b] = await socketPair(t)
  initiate(a, { infoHash: INFO_HASH, provide: RC4 }).catch(() => undefined)
  const err = await acceptIncoming(b, { ...options, policy: 'disable' }).catch((e: unknown) => e)
  assert.ok(err instanceof TrackerlessError)
  assert.match(err.message, /which encryption 'disable' refuses/)

  const [c, d] = await socketPair(t)
  const [ours, theirs] = await Promise.all([
    initiate(c, { infoHash: INFO_HASH, provide: RC4, initialPayload: PLAIN }),
    acceptIncoming(d, { ...options, policy: 'prefer' })
  ])
  assert.equal(ours.method, 'rc4')
  assert.equal(theirs.head, null)
  const got = await new Promise<Buffer>((resolve) => theirs.stream.once('data', (chunk: Buffer) => resolve(Buffer.from(chunk))))
  assert.deepEqual(got, PLAIN)
})

for (const [policy, expected] of [['prefer', 'plaintext'], ['allow', 'plaintext'], ['require', 'rc4']] as const) {
  test(`offered RC4 and plain text, '${policy}' picks ${expected} (libtorrent's choice with prefer_rc4 off: RC4 costs us half our rate)`, async (t) => {
    const [c, d] = await socketPair(t)
    const [ours] = await Promise.all([
      initiate(c, { infoHash: INFO_HASH, provide: RC4 | PLAINTEXT, initialPayload: PLAIN }),
      acceptIncoming(d, { ...options, policy })
    ])
    assert.equal(ours.method, expected)
  })
}
