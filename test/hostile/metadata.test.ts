import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { decodeMetadataMessage, encodeMetadataMessage } from '../../lib/wire/ut-metadata.js'
import type { Frame } from '../../lib/wire/codec.js'
import { BLOCK_SIZE, type MetadataMessage } from '../../lib/wire/messages.js'
import { until } from '../helpers/fixtures.js'
import { MiB, RAW_EXTENSIONS, RawPeer, scene, type Scene } from './raw-peer.js'

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

/** A liar that claims `size` bytes of metadata and answers each request with noise after `delay` ms. */
function slowLiar (t: TestContext, liar: RawPeer, size: number, delay: number): { asked: () => number } {
  let asked = 0
  const timers = new Set<NodeJS.Timeout>()
  t.after(() => { for (const timer of timers) clearTimeout(timer) })
  liar.onFrame((f) => {
    const msg = metadataMessage(f)
    if (msg?.type !== 'request') return
    asked++
    const timer = setTimeout(() => {
      timers.delete(timer)
      const data = randomBytes(Math.min(BLOCK_SIZE, size - msg.piece * BLOCK_SIZE))
      liar.sendExtended('ut_metadata', encodeMetadataMessage({ type: 'data', piece: msg.piece, totalSize: size, data }))
    }, delay)
    timers.add(timer)
  })
  liar.sendExtendedHandshake({ metadataSize: size })
  return { asked: () => asked }
}

/**
 * A slow liar announcing `liarSize(scene)` bytes is the leecher's first metadata source; then the
 * seeder joins. The lookup must resolve within one request timeout, plus one more for the honest
 * peer's few loopback round trips.
 */
async function lookupPastSlowLiar (t: TestContext, liarSize: (s: Scene) => number): Promise<void> {
  // Long enough that a loaded machine's loopback round trips fit in one.
  const REQUEST_TIMEOUT = 2_000
  const s = await scene(t, 4 * MiB, {}, { limits: { metadataTimeout: REQUEST_TIMEOUT } })
  const lookup = lookupAlone(s)
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => liar.destroy())
  const asked = liar.next(isMetadataRequest)
  // It answers, but later than we wait: each answer comes after its request was given up.
  slowLiar(t, liar, liarSize(s), 4 * REQUEST_TIMEOUT)
  await asked

  const archive = await s.leecher.lookup(s.magnet, { peers: [s.seederAddress], timeout: 2 * REQUEST_TIMEOUT })
  t.after(() => archive.close())
  await lookup
  assert.deepEqual(await archive.readdir('/'), ['data.bin'])
}

test('a slow liar claiming 16 MiB of metadata delays an honest peer\'s answer by at most one request timeout', async (t) => {
  await lookupPastSlowLiar(t, () => 16 * 1024 * 1024)
})

test('a slow liar alone: the lookup fails with ETIMEDOUT and the liar, once timed out, is not asked again', async (t) => {
  const REQUEST_TIMEOUT = 500
  const s = await scene(t, 4 * MiB, {}, { limits: { metadataTimeout: REQUEST_TIMEOUT } })
  const lookup = s.leecher.lookup(s.magnet, { timeout: 6 * REQUEST_TIMEOUT })
  lookup.catch(() => {})
  const liar = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash })
  t.after(() => liar.destroy())
  const first = liar.next(isMetadataRequest)
  const { asked } = slowLiar(t, liar, 16 * 1024 * 1024, 2 * REQUEST_TIMEOUT)
  await first
  // Our first requests may come in more than one read; all are out well before their timeout.
  await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT / 2))
  const before = asked()
  await assert.rejects(lookup, { code: 'ETIMEDOUT' })
  assert.equal(asked(), before, `${asked() - before} more requests after its first ones`)
  assert.equal(liar.closed, false)
})

test('a slow liar announcing the true metadata size holds its pieces for one request timeout, then the honest peer gets them', async (t) => {
  await lookupPastSlowLiar(t, (s) => s.meta.info.length)
})
