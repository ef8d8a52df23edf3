import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { decodeMetadataMessage, encodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import type { Frame } from '../../lib/wire/codec.js'
import { BLOCK_SIZE, type MetadataMessage } from '../../lib/wire/messages.js'
import { until } from '../helpers/fixtures.js'
import { RAW_EXTENSIONS, RawPeer, scene, type Scene } from './raw-peer.js'

/** A ut_metadata message our client sent to the scripted peer, or null for any other frame. */
function metadataMessage (frame: Frame): MetadataMessage | null {
  if (frame.type !== 'extended' || frame.id !== RAW_EXTENSIONS.ut_metadata) return null
  return decodeMetadataMessage(frame.payload)
}

function isMetadataRequest (frame: Frame): boolean {
  return metadataMessage(frame)?.type === 'request'
}

/** Opens the magnet on the leecher with no peer yet, so that the scripted peer is the first source. */
function lookupAlone (s: Scene): Promise<unknown> {
  const lookup = s.leecher.lookup(s.magnet, { timeout: 30_000 })
  lookup.catch(() => {})
  return lookup
}

test('a peer whose metadata does not hash to the infohash is banned; the honest peer supplies it', async (t) => {
  const s = await scene(t)
  const lookup = lookupAlone(s)
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  liar.onFrame((f) => {
    const msg = metadataMessage(f)
    if (msg?.type !== 'request') return
    const size = s.meta.info.length
    const data = randomBytes(Math.min(BLOCK_SIZE, size - msg.piece * BLOCK_SIZE))
    liar.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'data', piece: msg.piece, totalSize: size, data }))
  })
  liar.sendExtendedHandshake({ metadataSize: s.meta.info.length })
  await liar.waitClosed()

  const again = RawPeer.connect(s.leecher.port, { infoHash: s.meta.infoHash, peerId: liar.peerId })
  await again.waitClosed()

  await s.leecher.lookup(s.magnet, { peers: [s.seederAddress] })
  await lookup
})

test('metadata_size of gigabytes is ignored: nothing is asked of that peer or allocated for it', async (t) => {
  const s = await scene(t)
  const before = process.memoryUsage().arrayBuffers
  const lookup = lookupAlone(s)
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => liar.destroy())
  let asked = 0
  liar.onFrame((f) => { if (isMetadataRequest(f)) asked++ })
  liar.sendExtendedHandshake({ metadataSize: 4 * 1024 ** 3 })

  await s.leecher.lookup(s.magnet, { peers: [s.seederAddress] })
  await lookup
  assert.equal(asked, 0)
  const grown = process.memoryUsage().arrayBuffers - before
  assert.ok(grown < 64 * 1024 * 1024, `array buffers grew by ${grown} bytes`)
})

test('a first peer announcing a false metadata size does not lock out peers announcing the true one', async (t) => {
  const s = await scene(t)
  const lookup = lookupAlone(s)
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => liar.destroy())
  const asked = liar.next(isMetadataRequest)
  liar.sendExtendedHandshake({ metadataSize: 16 * 1024 * 1024 })
  await asked

  // The honest peer is known while the liar's size is being fetched; then the liar refuses.
  await s.leecher.lookup(s.magnet, { peers: [s.seederAddress] }).catch(() => {})
  liar.onFrame((f) => {
    const msg = metadataMessage(f)
    if (msg?.type === 'request') liar.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'reject', piece: msg.piece }))
  })
  liar.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'reject', piece: 0 }))
  await lookup
})

test('a peer that floods metadata requests and never reads is dropped before its replies pile up', async (t) => {
  const s = await scene(t)
  const seeding = await s.seeder.lookup(s.magnet)
  const flooder = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash })
  await until(() => flooder.extensions !== null && seeding.peers.length === 1, 10_000, "the seeder's extended handshake")
  flooder.sendExtendedHandshake()
  flooder.socket.pause()
  const request = encodeMetadataMessage({ type: 'request', piece: 0 })
  const id = flooder.extensions!.m.ut_metadata!
  const one = Buffer.concat([Buffer.alloc(4), Buffer.from([20, id]), request])
  one.writeUInt32BE(one.length - 4, 0)
  // Each request costs the flooder a few dozen bytes and the seeder a reply of the whole info.
  const count = Math.ceil(64 * 1024 * 1024 / s.meta.info.length)
  flooder.sendRaw(Buffer.concat(Array.from({ length: count }, () => one)))
  // Watched from the seeder: the flooder itself, not reading, would not see the end until it read
  // the replies the kernel already holds for it.
  await until(() => seeding.peers.length === 0, 30_000, 'the seeder dropped the flooder')
  flooder.socket.resume()
  await flooder.waitClosed()
  assert.ok(flooder.socket.bytesRead < 32 * 1024 * 1024, `the flooder got ${flooder.socket.bytesRead} bytes of the 64 MiB it asked for`)
})
