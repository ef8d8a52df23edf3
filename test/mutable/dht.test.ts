import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createKeypair, sign } from '../../lib/mutable/keys.js'
import { publishMutable, republish } from '../../lib/mutable/publish.js'
import { resolveMutable } from '../../lib/mutable/resolve.js'
import { targetOf } from '../../lib/mutable/item.js'
import type { MutableDht } from '../../lib/mutable/dht-api.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { dhtNetwork, joinNode, closeAll } from '../helpers/dht-network.js'

const ih = (byte: number) => asInfoHash(Buffer.alloc(20, byte))

test('publish on one node, resolve on another; the next publish bumps seq and wins', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const [writer, reader] = [net.nodes[3]!, net.nodes[7]!] as unknown as [MutableDht, MutableDht]
  const keys = await createKeypair()
  const first = await publishMutable(writer, { ...keys, infoHash: ih(1) })
  assert.equal(first.seq, 1)
  const seen = await resolveMutable(reader, keys.publicKey)
  assert.equal(seen?.seq, 1)
  assert.ok(seen?.infoHash.equals(ih(1)))

  const second = await publishMutable(writer, { ...keys, infoHash: ih(2) })
  assert.equal(second.seq, 2)
  const newer = await resolveMutable(reader, keys.publicKey)
  assert.ok(newer?.infoHash.equals(ih(2)))
  await republish(writer, second)

  const salted = await publishMutable(writer, { ...keys, salt: Buffer.from('blog'), infoHash: ih(3) })
  assert.equal(salted.seq, 1, 'a salt is its own item')
  assert.ok((await resolveMutable(reader, keys.publicKey, Buffer.from('blog')))?.infoHash.equals(ih(3)))
  assert.equal(await resolveMutable(reader, (await createKeypair()).publicKey), null, 'nobody has an unknown key')
})

test('forged signatures and rolled-back seq served by lying nodes are ignored: the honest item wins', async (t) => {
  const net = await dhtNetwork(10)
  // Liars store anything (their verify says yes to all) and so serve what they were given.
  const liars = await Promise.all([0, 1, 2].map(() => joinNode(net.bootstrap, { verify: () => true })))
  t.after(async () => { await closeAll(liars); await net.close() })
  const keys = await createKeypair()
  const honest = await publishMutable(net.nodes[1] as unknown as MutableDht, { ...keys, infoHash: ih(9) })
  const target = targetOf(keys.publicKey)
  const forger = liars[0]!
  // A forged newer version (bad signature) and a replayed older one (valid, lower seq), put to the liars.
  await new Promise<void>((resolve) => forger.put({ k: keys.publicKey, v: Buffer.from('forged'), seq: honest.seq + 5, sig: Buffer.alloc(64, 1) }, () => resolve()))
  await new Promise<void>((resolve) => forger.put({ k: keys.publicKey, v: Buffer.from('old'), seq: 0, sign: (m) => sign(m, keys.privateKey) }, () => resolve()))
  const seen = await resolveMutable(net.nodes[8] as unknown as MutableDht, keys.publicKey)
  assert.equal(seen?.seq, honest.seq)
  assert.ok(seen?.infoHash.equals(ih(9)))
  assert.equal(target.length, 20)
})

test('when the only answers are forged, resolve says EBADSIG', async (t) => {
  const liars = await dhtNetwork(6, { verify: () => true })
  const reader = await joinNode(liars.bootstrap)
  t.after(async () => { await closeAll([reader]); await liars.close() })
  const keys = await createKeypair()
  await new Promise<void>((resolve) => liars.nodes[2]!.put({ k: keys.publicKey, v: Buffer.from('forged'), seq: 3, sig: Buffer.alloc(64, 7) }, () => resolve()))
  await assert.rejects(resolveMutable(reader as unknown as MutableDht, keys.publicKey), { code: 'EBADSIG' })
  // A lying node that stored it itself is caught too: its own copy is checked like any answer.
  await assert.rejects(resolveMutable(liars.nodes[2] as unknown as MutableDht, keys.publicKey), { code: 'EBADSIG' })
})
