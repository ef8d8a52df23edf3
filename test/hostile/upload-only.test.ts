import { test } from 'node:test'
import assert from 'node:assert/strict'
import { asInfoHash } from '../../lib/util/ids.js'
import { decodeExtendedHandshake, encodeExtendedHandshake } from '../../lib/wire/extended.js'
import type { Frame } from '../../lib/wire/codec.js'
import { Bitfield } from '../../lib/util/bitfield.js'
import { once, until } from '../helpers/fixtures.js'
import { selectScene } from '../helpers/select-scene.js'
import { RawPeer, scene } from './raw-peer.js'

/** Our own id for libtorrent's upload_only message, as the scripted peer announces it. */
const OUR_UPLOAD_ONLY = 7

const handshakeFrame = (f: Frame): boolean => f.type === 'extended' && f.id === 0
function extensions (frame: Frame): ReturnType<typeof decodeExtendedHandshake> {
  assert.ok(frame.type === 'extended')
  return decodeExtendedHandshake(frame.payload)
}

test('BEP21: a leecher whose selected files are complete tells its peers upload_only and is no longer interested; a peer that only uploads too is then closed', async (t) => {
  const { seeder, leecher, magnet } = await selectScene(t)
  const torrent = seeder.torrentFile(magnet)!
  // .torrent bytes: ready at once, with no peer yet, so the scripted peer is there before any data.
  const archive = await leecher.lookup(torrent, { files: ['/b.bin'] })
  const raw = await RawPeer.dial(leecher.port, { infoHash: asInfoHash(Buffer.from(archive.infoHash, 'hex')) })
  t.after(() => raw.destroy())
  raw.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: { ut_metadata: 3, upload_only: OUR_UPLOAD_ONLY } }) })
  const bits = new Bitfield(9)
  for (const piece of [2, 3, 4]) bits.set(piece)
  raw.send({ type: 'bitfield', bitfield: Buffer.from(bits.buffer) })
  // Our extended handshake follows our handshake at once: it may have come with it.
  await until(() => raw.extensions !== null, 10_000, 'the extended handshake')
  assert.notEqual(raw.extensions!.uploadOnly, true, 'b.bin is not here yet')
  await raw.next((f) => f.type === 'interested', 10_000)

  const update = raw.next(handshakeFrame, 20_000)
  const message = raw.next((f) => f.type === 'extended' && f.id === OUR_UPLOAD_ONLY, 20_000)
  const notInterested = raw.next((f) => f.type === 'not-interested', 20_000)
  await leecher.lookup(torrent, { peers: [`127.0.0.1:${seeder.port}`] })
  await once(archive, 'done', 20_000)
  assert.equal(extensions(await update).uploadOnly, true, 'an updated extended handshake says upload_only')
  const sent = await message
  assert.ok(sent.type === 'extended')
  assert.deepEqual([...sent.payload], [1], 'and so does libtorrent\'s message, which the peer named')
  await notInterested
  assert.equal(raw.closed, false, 'a peer that still wants pieces is kept')

  // The peer says it only uploads now, in libtorrent's message: nobody wants anything, so it goes.
  raw.send({ type: 'extended', id: raw.extensions!.m.upload_only!, payload: Buffer.from([1]) })
  await raw.waitClosed(10_000)
})

test('BEP21: a seed says upload_only at once, keeps a peer that wants data and closes one whose handshake says upload_only', async (t) => {
  const { seeder, meta } = await scene(t, 256 * 1024)
  const wanting = await RawPeer.dial(seeder.port, { infoHash: meta.infoHash })
  t.after(() => wanting.destroy())
  wanting.sendExtendedHandshake({})
  wanting.send({ type: 'have-none' })
  await until(() => wanting.extensions !== null, 10_000, 'the extended handshake')
  assert.equal(wanting.extensions!.uploadOnly, true)
  wanting.send({ type: 'interested' })
  await wanting.next((f) => f.type === 'unchoke', 20_000)

  const useless = await RawPeer.dial(seeder.port, { infoHash: meta.infoHash })
  t.after(() => useless.destroy())
  useless.sendExtendedHandshake({ uploadOnly: true })
  useless.send({ type: 'have-none' })
  await useless.waitClosed(10_000)
  wanting.send({ type: 'have', index: 0 })
  wanting.send({ type: 'request', index: 0, begin: 0, length: 16 * 1024 })
  await wanting.next((f) => f.type === 'piece', 10_000)
  assert.equal(wanting.closed, false, 'the peer that did not say upload_only is still served')
})
