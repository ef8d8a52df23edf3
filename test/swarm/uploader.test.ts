/**
 * The Uploader driven directly: a fake peer records what would go on its wire, a fake storage
 * answers reads when the test says so. No sockets, no disk.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Uploader, type UploadPeer } from '../../lib/swarm/uploader.js'
import { Rate } from '../../lib/util/rate.js'
import type { Message } from '../../lib/wire/messages.js'
import type { BlockRequest } from '../../lib/swarm/peer.js'

const BLOCK = 16384

interface FakePeer extends UploadPeer {
  sent: Message[]
  wire: { sent: Message[], send: (m: Message) => boolean, peerSupportsFast: boolean, full: boolean, hasRoom: (pending: number, rate: number) => boolean, destroyed: boolean }
}

function fakePeer (fast = true): FakePeer {
  const sent: Message[] = []
  const wire: FakePeer['wire'] = { sent, send: (m) => sent.push(m) > 0, peerSupportsFast: fast, full: false, hasRoom: () => !wire.full, destroyed: false }
  return { sent, amChoking: false, upload: new Rate(), wire }
}

/** Reads wait until the test calls `settle()`; nothing is ever cached (load() finds no room, so
 *  every block is read on its own). */
function fakeStorage (): { storage: ConstructorParameters<typeof Uploader>[0], reads: BlockRequest[], settle: () => Promise<void> } {
  const reads: BlockRequest[] = []
  const pending: Array<() => void> = []
  const read = (index: number, begin: number, length: number): Promise<Buffer> => {
    reads.push({ index, begin, length })
    return new Promise((resolve) => pending.push(() => resolve(Buffer.alloc(length, index))))
  }
  return {
    reads,
    storage: { cachedRange: () => null, load: async () => false, readDirect: read },
    settle: async () => {
      // A few rounds: a read answered lets the queue start the next.
      for (let round = 0; round < 5; round++) {
        await new Promise((resolve) => setImmediate(resolve))
        for (const done of pending.splice(0)) done()
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}

const req = (index: number, block = 0): BlockRequest => ({ index, begin: block * BLOCK, length: BLOCK })
const pieces = (sent: Message[]): Array<[number, number]> => sent.flatMap((m) => m.type === 'piece' ? [[m.index, m.begin] as [number, number]] : [])

test('blocks are served in the order they were asked for', async () => {
  const { storage, settle } = fakeStorage()
  const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
  const peer = fakePeer()
  for (const r of [req(3), req(1, 2), req(2, 1)]) uploader.enqueue(peer, r)
  assert.equal(uploader.busy(peer), true)
  await settle()
  assert.deepEqual(pieces(peer.sent), [[3, 0], [1, 2 * BLOCK], [2, BLOCK]])
  assert.equal(peer.upload.total, 3 * BLOCK)
  assert.equal(uploader.busy(peer), false)
})

test('nothing is read while the peer\'s socket is full; its drain (pump) resumes the queue', async () => {
  const { storage, reads, settle } = fakeStorage()
  const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
  const peer = fakePeer()
  peer.wire.full = true
  uploader.enqueue(peer, req(0))
  uploader.enqueue(peer, req(1))
  await settle()
  assert.deepEqual(reads, [], 'a block was read for a peer that does not read its socket')
  assert.equal(uploader.queued(peer), 2)
  peer.wire.full = false
  uploader.pump(peer)
  await settle()
  assert.deepEqual(pieces(peer.sent), [[0, 0], [1, 0]])
})

test('a CANCEL removes the queued request; a CANCEL for something never asked changes nothing', async () => {
  const { storage, settle } = fakeStorage()
  const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
  const peer = fakePeer()
  peer.wire.full = true
  for (const r of [req(0), req(1), req(2)]) uploader.enqueue(peer, r)
  uploader.cancel(peer, req(1))
  uploader.cancel(peer, req(7))
  peer.wire.full = false
  uploader.pump(peer)
  await settle()
  assert.deepEqual(pieces(peer.sent), [[0, 0], [2, 0]])
})

test('choking a peer drops its queue: a BEP6 peer gets a REJECT for each request, another peer nothing', async () => {
  for (const fast of [true, false]) {
    const { storage, settle } = fakeStorage()
    const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
    const peer = fakePeer(fast)
    peer.wire.full = true
    uploader.enqueue(peer, req(0))
    uploader.enqueue(peer, req(1))
    peer.amChoking = true
    uploader.clear(peer)
    peer.wire.full = false
    uploader.pump(peer)
    await settle()
    const rejects = peer.sent.filter((m) => m.type === 'reject').map((m) => m.type === 'reject' ? m.index : -1)
    assert.deepEqual(rejects, fast ? [0, 1] : [])
    assert.deepEqual(pieces(peer.sent), [], 'a choked peer was sent a block')
  }
})

test('a block read for a peer that is choked or gone before the read ends is not sent', async () => {
  const { storage, settle } = fakeStorage()
  const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
  const choked = fakePeer()
  const gone = fakePeer()
  uploader.enqueue(choked, req(0))
  uploader.enqueue(gone, req(1))
  choked.amChoking = true
  gone.wire.destroyed = true
  uploader.remove(gone)
  await settle()
  assert.deepEqual([pieces(choked.sent), pieces(gone.sent)], [[], []])
  assert.equal(uploader.busy(gone), false)
})

test('a failed read is reported, and the peer\'s queue does not stay busy', async () => {
  const errors: Error[] = []
  const boom = new Error('EIO')
  const uploader = new Uploader<FakePeer>({ cachedRange: () => null, load: async () => { throw boom }, readDirect: async (): Promise<Buffer> => { throw boom } }, (err) => errors.push(err))
  const peer = fakePeer()
  uploader.enqueue(peer, req(0))
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(errors, [boom])
  assert.equal(uploader.busy(peer), false)
})

test('reads in flight count against the room on the peer\'s socket: a slow peer has only what fits read for it', async () => {
  const { storage, reads, settle } = fakeStorage()
  const uploader = new Uploader<FakePeer>(storage, (err) => { throw err })
  const peer = fakePeer()
  const asked: number[] = []
  // A socket with room for two blocks, whatever the rate.
  peer.wire.hasRoom = (pending) => { asked.push(pending); return pending < 2 * BLOCK }
  for (let i = 0; i < 6; i++) uploader.enqueue(peer, req(i))
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(reads.length, 2, 'more reads started than the socket has room for')
  assert.deepEqual(asked.slice(0, 3), [0, BLOCK, 2 * BLOCK])
  await settle()
  assert.deepEqual(pieces(peer.sent), [0, 1, 2, 3, 4, 5].map((i) => [i, 0]))
})
