import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { UtpConnection } from '../../../lib/transport/utp/connection.js'
import { EXT_PADDING, isLoopback, padding } from '../../../lib/transport/utp/mtu-probe.js'
import { decode, encode, HEADER_SIZE, ST_DATA } from '../../../lib/transport/utp/packet.js'
import { UtpTransport, type UtpTransportOptions } from '../../../lib/transport/utp/transport.js'

const TEST_TIMEOUT = { timeout: 30_000 }
/** The receive buffer of libtorrent's UDP socket: longer datagrams reach it truncated. */
const LIBTORRENT_BUFFER = 1500

function probe (size: number): Buffer {
  const header = encode({ type: ST_DATA, connectionId: 7, timestamp: 1, timestampDiff: 0, window: 1 << 20, seq: 5, ack: 9, payload: new Uint8Array(0) })
  header[1] = EXT_PADDING
  return Buffer.concat([header, padding(size)])
}

/** A dialled connection to a listener on loopback, its accepted side, and every datagram the
 *  dialler sent (sizes and decoded packets), after `data` went across with backpressure. */
async function send (data: Buffer, dialOpts: UtpTransportOptions): Promise<{ a: UtpConnection, got: Buffer, close: () => Promise<void> }> {
  const server = new UtpTransport()
  const client = new UtpTransport(dialOpts)
  const chunks: Buffer[] = []
  let n = 0
  let resolve: () => void = () => {}
  const received = new Promise<void>((r) => { resolve = r })
  const port = await server.listen(0, '127.0.0.1', (s) => s.on('data', (d: Buffer) => {
    chunks.push(Buffer.from(d))
    n += d.length
    if (n >= data.length) resolve()
  }))
  const a = client.dial('127.0.0.1', port) as UtpConnection
  await once(a, 'connect')
  for (let at = 0; at < data.length; at += 16 * 1024) {
    if (!a.write(data.subarray(at, at + 16 * 1024))) await once(a, 'drain')
  }
  await received
  return { a, got: Buffer.concat(chunks), close: async () => { a.destroy(); await client.close(); await server.close() } }
}

describe('uTP path-MTU probe', () => {
  it('pads a probe to exactly the size asked, and decodes it as a DATA packet with no payload', () => {
    fc.assert(fc.property(fc.integer({ min: HEADER_SIZE + 2, max: 65_507 }), (size) => {
      const buf = probe(size)
      assert.equal(buf.length, size)
      const p = decode(buf)
      assert.ok(p !== null)
      assert.equal(p.type, ST_DATA)
      assert.equal(p.payload.length, 0)
      assert.equal(p.sack, undefined)
    }), { numRuns: 300 })
  })

  it('is dropped whole by a receiver that truncates it, never read as data', () => {
    assert.equal(decode(probe(65_488).subarray(0, LIBTORRENT_BUFFER)), null)
    assert.equal(decode(probe(LIBTORRENT_BUFFER + 1).subarray(0, LIBTORRENT_BUFFER)), null)
  })

  it('takes loopback addresses only', () => {
    assert.ok(isLoopback('127.0.0.1') && isLoopback('127.8.9.10') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1'))
    assert.ok(!isLoopback('10.0.0.1') && !isLoopback('::ffff:10.0.0.1') && !isLoopback('fe80::1') && !isLoopback('128.0.0.1'))
  })

  it('between two of ours on loopback, moves the data in datagrams of the probed size', TEST_TIMEOUT, async () => {
    const sizes: number[] = []
    const data = randomBytes(2 * 1024 * 1024)
    const { a, got, close } = await send(data, { drop: (buf) => { sizes.push(buf.length); return false } })
    assert.ok(got.equals(data))
    assert.equal(a.maxPayload, 65_488 - HEADER_SIZE)
    assert.equal(Math.max(...sizes), 65_488)
    await close()
  })

  it('keeps the safe size toward a peer that loses long datagrams (as libtorrent truncates them), and loses no data', TEST_TIMEOUT, async () => {
    const sizes: number[] = []
    const drop = (buf: Buffer): boolean => {
      if (buf.length > LIBTORRENT_BUFFER) return true
      sizes.push(buf.length)
      return false
    }
    const data = randomBytes(2 * 1024 * 1024)
    const { a, got, close } = await send(data, { drop })
    assert.ok(got.equals(data))
    assert.equal(a.maxPayload, 1400 - HEADER_SIZE)
    assert.equal(Math.max(...sizes), 1400)
    await close()
  })

  it('recovers 64 KiB datagrams the network drops (every 5th data packet, first send only)', TEST_TIMEOUT, async () => {
    const seen = new Set<number>()
    let dataSent = 0
    let dropped = 0
    const drop = (buf: Buffer): boolean => {
      const p = decode(buf)
      if (p === null || p.type !== ST_DATA || p.payload.length < 2000 || seen.has(p.seq)) return false
      seen.add(p.seq)
      if (++dataSent % 5 !== 0) return false
      dropped++
      return true
    }
    const data = randomBytes(4 * 1024 * 1024)
    const { got, close } = await send(data, { drop })
    assert.ok(got.equals(data))
    assert.ok(dropped >= 8, `dropped ${dropped}`)
    await close()
  })

  it('sends the writes of one turn as one packet', TEST_TIMEOUT, async () => {
    const data: number[] = []
    const drop = (buf: Buffer): boolean => {
      const p = decode(buf)
      if (p?.type === ST_DATA && p.payload.length > 0) data.push(p.payload.length)
      return false
    }
    const { a, close } = await send(Buffer.from('x'), { drop })
    data.length = 0
    for (let i = 0; i < 10; i++) a.write(Buffer.alloc(100, i))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(data, [1000])
    await close()
  })
})
