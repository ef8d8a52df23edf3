import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import RAM from 'random-access-memory'
import { Torrent, Archive } from '../../index.js'
import type { StorageFactory } from '../../index.js'
import { localClient, addressOf, rejection } from '../archive/local.js'

test('peerId: 20 bytes, 40 hex, a short string as a prefix, a long one hashed', () => {
  const bytes = Buffer.alloc(20, 7)
  assert.deepEqual(new Torrent({ peerId: bytes }).peerId, bytes)
  const hex = 'ab'.repeat(20)
  assert.equal(new Torrent({ peerId: hex }).peerId.toString('hex'), hex)

  const a = new Torrent({ peerId: 'something' }).peerId
  const b = new Torrent({ peerId: 'something' }).peerId
  assert.equal(a.length, 20)
  assert.equal(a.subarray(0, 9).toString(), 'something')
  assert.notDeepEqual(a.subarray(9), b.subarray(9), 'the rest is random')

  const long = 'a peer id longer than twenty bytes'
  const h = new Torrent({ peerId: long }).peerId
  assert.equal(h.length, 20)
  assert.deepEqual(new Torrent({ peerId: long }).peerId, h, 'hashed, so the same every time')

  assert.equal(new Torrent().peerId.subarray(0, 8).toString(), '-tl0100-')
  assert.throws(() => new Torrent({ peerId: 42 as unknown as string }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => new Torrent({ storage: 42 as unknown as string }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
})

async function seeded (t: TestContext): Promise<{ magnet: string, peer: string }> {
  const seeder = await localClient(t)
  const draft = new Archive()
  await draft.writeFile('/a.txt', 'stored by the user')
  return { magnet: await seeder.seed(draft), peer: addressOf(seeder) }
}

test('storage: the random-access-memory class is called with new, per file', async (t) => {
  const { magnet, peer } = await seeded(t)
  const reader = await localClient(t, { storage: RAM })
  const archive = await reader.lookup(magnet, { peers: [peer], timeout: 10_000 })
  assert.equal(await archive.readFile('/a.txt', 'utf8'), 'stored by the user')
})

test('storage: a factory (name, opts) => storage gets each file path', async (t) => {
  const { magnet, peer } = await seeded(t)
  const names: string[] = []
  const factory: StorageFactory = (name) => { names.push(name); return new RAM() }
  const reader = await localClient(t, { storage: factory })
  const archive = await reader.lookup(magnet, { peers: [peer], timeout: 10_000 })
  assert.equal(await archive.readFile('/a.txt', 'utf8'), 'stored by the user')
  assert.ok(names.includes('archive/a.txt'), `opened ${names.join(', ')}`)
})

test('storage: a factory that throws becomes a rejected read, not a crash', async (t) => {
  const { magnet, peer } = await seeded(t)
  const reader = await localClient(t, { storage: () => { throw new Error('disk on fire') } })
  const archive = await reader.lookup(magnet, { peers: [peer], timeout: 10_000 }).catch((err: Error) => err)
  // Either the archive opens and its read fails, or the lookup itself fails: with the storage's error.
  const err = archive instanceof Error ? archive : await rejection(archive.readFile('/a.txt'))
  assert.match(err.message, /disk on fire/)
})

test('storage: a factory that returns no storage is refused with the reason', async (t) => {
  const { magnet, peer } = await seeded(t)
  const reader = await localClient(t, { storage: (() => ({})) as unknown as StorageFactory })
  const archive = await reader.lookup(magnet, { peers: [peer], timeout: 10_000 }).catch((err: Error) => err)
  const err = archive instanceof Error ? archive : await rejection(archive.readFile('/a.txt'))
  assert.match(err.message, /not a random-access-storage instance/)
})
