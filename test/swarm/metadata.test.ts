import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { MetadataExchange } from '../../lib/swarm/metadata.js'
import type { Peer } from '../../lib/swarm/peer.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { decodeMetadataMessage, encodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'

const TIMEOUT = 1_000
const MAX_SIZE = 5 * BLOCK_SIZE

type Behaviour = 'honest' | 'silent' | 'garbage' | 'reject' | 'late'

/** A peer as the exchange sees it: its extended handshake, and where our messages go. */
interface FakePeer {
  address: string
  behaviour: Behaviour
  size: number
  receivedAt: number
  destroyed: boolean
  /** Pieces we asked it for, in order. */
  asked: number[]
  askedAt: number[]
  wire: { peerExtensions: { m: { ut_metadata: number }, metadataSize: number }, sendExtended: (name: string, payload: Buffer) => boolean }
  destroy: () => void
}

/**
 * One run on mocked time: the peers announce their sizes at once, each answers as its behaviour
 * says (`late`: after two timeouts), and time moves on in steps of a quarter timeout.
 */
function run (t: TestContext, info: Buffer, peers: Array<{ behaviour: Behaviour, size: number }>): { done: Buffer | null, elapsed: number, fakes: FakePeer[], banned: Set<FakePeer> } {
  const start = Date.now()
  const inbox: Array<{ peer: FakePeer, piece: number }> = []
  const banned = new Set<FakePeer>()
  let done: Buffer | null = null
  // eslint-disable-next-line prefer-const -- the fakes call into it, and it into them
  let exchange: MetadataExchange
  const fakes: FakePeer[] = peers.map(({ behaviour, size }, i) => {
    const fake: FakePeer = {
      address: `10.0.0.${i}:1`,
      behaviour,
      size,
      receivedAt: start,
      destroyed: false,
      asked: [],
      askedAt: [],
      wire: {
        peerExtensions: { m: { ut_metadata: 3 }, metadataSize: size },
        sendExtended: (_name, payload) => {
          const msg = decodeMetadataMessage(payload)
          if (msg?.type === 'request') {
            fake.asked.push(msg.piece)
            fake.askedAt.push(Date.now())
            inbox.push({ peer: fake, piece: msg.piece })
          }
          return true
        }
      },
      destroy: () => {
        if (fake.destroyed) return
        fake.destroyed = true
        exchange.removePeer(fake as unknown as Peer)
      }
    }
    return fake
  })
  exchange = new MetadataExchange(asInfoHash(createHash('sha1').update(info).digest()), null, (got) => { done = got }, (peer) => {
    banned.add(peer as unknown as FakePeer)
    ;(peer as unknown as FakePeer).destroy()
  }, TIMEOUT)
  t.after(() => exchange.close())

  const answer = (peer: FakePeer, piece: number): void => {
    if (peer.destroyed || done !== null) return
    const length = Math.min(BLOCK_SIZE, peer.size - piece * BLOCK_SIZE)
    const data = peer.behaviour === 'honest' ? info.subarray(piece * BLOCK_SIZE, piece * BLOCK_SIZE + length) : randomBytes(length)
    const msg = peer.behaviour === 'reject'
      ? encodeMetadataMessage({ type: 'reject', piece })
      : encodeMetadataMessage({ type: 'data', piece, totalSize: peer.size, data })
    exchange.onMessage(peer as unknown as Peer, msg)
  }
  for (const fake of fakes) exchange.addPeer(fake as unknown as Peer)
  for (let step = 0; step < 4 * (peers.length + 2) * 4 && done === null; step++) {
    while (inbox.length > 0 && done === null) {
      const { peer, piece } = inbox.shift()!
      if (peer.behaviour === 'late') setTimeout(() => answer(peer, piece), 2 * TIMEOUT)
      else if (peer.behaviour !== 'silent') answer(peer, piece)
    }
    if (done === null) t.mock.timers.tick(TIMEOUT / 4)
  }
  return { done, elapsed: Date.now() - start, fakes, banned }
}

const liar = fc.record({
  behaviour: fc.constantFrom<Behaviour>('silent', 'garbage', 'reject', 'late'),
  /** null: the true size. */
  size: fc.option(fc.integer({ min: 1, max: MAX_SIZE }), { nil: null })
}, { noNullPrototype: true })

test('whatever up to five liars announce and answer, the honest peer\'s metadata wins within one request timeout per liar', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] })
  fc.assert(fc.property(fc.integer({ min: 1, max: MAX_SIZE }), fc.array(liar, { maxLength: 5 }), fc.nat(5), (infoSize, liars, at) => {
    const info = randomBytes(infoSize)
    const peers = liars.map((l) => ({ behaviour: l.behaviour, size: l.size ?? infoSize }))
    peers.splice(Math.min(at, peers.length), 0, { behaviour: 'honest', size: infoSize })
    const { done, elapsed, fakes, banned } = run(t, info, peers)

    assert.ok(done !== null && info.equals(done), 'the true metadata was found')
    assert.ok(elapsed <= (liars.length + 1) * TIMEOUT, `${elapsed} ms with ${liars.length} liars`)
    const honest = fakes.find((f) => f.behaviour === 'honest')!
    assert.ok(!banned.has(honest) && !honest.destroyed, 'the honest peer was kept')
    for (const fake of fakes) {
      assert.ok(fake.asked.every((piece) => piece * BLOCK_SIZE < fake.size), 'asked only for pieces of the size it announced')
      // A peer that let a request time out is not asked again.
      if (fake.behaviour === 'silent' || fake.behaviour === 'late') {
        assert.ok(fake.askedAt.every((at) => at < fake.askedAt[0]! + TIMEOUT), `${fake.behaviour} peer asked again after a timeout`)
      }
    }
  }), { numRuns: 300, interruptAfterTimeLimit: 30_000 })
})
