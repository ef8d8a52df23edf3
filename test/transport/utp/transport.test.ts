import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { asInfoHash, asPeerId } from '../../../lib/util/ids.js'
import { Wire } from '../../../lib/wire/wire.js'
import type { PeerStream } from '../../../lib/transport/types.js'
import { decode, ST_DATA } from '../../../lib/transport/utp/packet.js'
import { UtpTransport, type UtpTransportOptions } from '../../../lib/transport/utp/transport.js'

const TEST_TIMEOUT = { timeout: 30_000 }

/** A listening transport and a dialling one, and the connected pair of streams. */
async function pair (listenOpts: UtpTransportOptions = {}, dialOpts: UtpTransportOptions = {}): Promise<{ a: PeerStream, b: PeerStream, close: () => Promise<void> }> {
  const server = new UtpTransport(listenOpts)
  const client = new UtpTransport(dialOpts)
  let accepted: (s: [PeerStream, Buffer]) => void = () => {}
  const incoming = new Promise<[PeerStream, Buffer]>((resolve) => { accepted = resolve })
  // The acceptor hands a stream over with the dialler's first bytes, in the same turn.
  const port = await server.listen(0, '127.0.0.1', (s) => s.once('data', (d: Buffer) => accepted([s, Buffer.from(d)])))
  const a = client.dial('127.0.0.1', port)
  await once(a, 'connect')
  a.write(Buffer.from('hello'))
  const [b, first] = await incoming
  assert.equal(first.toString(), 'hello')
  return { a, b, close: async () => { await client.close(); await server.close() } }
}

/** Writes `data` with backpressure, and resolves with all bytes `to` receives up to its length. */
async function transfer (from: PeerStream, to: PeerStream, data: Buffer): Promise<Buffer> {
  const got: Buffer[] = []
  let n = 0
  const received = new Promise<void>((resolve) => {
    to.on('data', (chunk: Buffer) => {
      got.push(Buffer.from(chunk))
      n += chunk.length
      if (n >= data.length) resolve()
    })
  })
  for (let at = 0; at < data.length; at += 16 * 1024) {
    if (!from.write(data.subarray(at, at + 16 * 1024))) await once(from, 'drain')
  }
  await received
  return Buffer.concat(got)
}

describe('uTP transport on loopback', () => {
  it('carries a few MiB each way at once, byte-exact', TEST_TIMEOUT, async () => {
    const { a, b, close } = await pair()
    const ab = randomBytes(3 * 1024 * 1024)
    const ba = randomBytes(2 * 1024 * 1024)
    const [gotB, gotA] = await Promise.all([transfer(a, b, ab), transfer(b, a, ba)])
    assert.ok(gotB.equals(ab))
    assert.ok(gotA.equals(ba))
    const closed = once(b, 'close')
    a.destroy()
    await closed // our FIN reaches the peer and closes its side
    await close()
  })

  it('retransmits what the network drops (every 7th data packet, first send only)', TEST_TIMEOUT, async () => {
    let dataSent = 0
    let dropped = 0
    const seen = new Set<number>()
    const drop = (buf: Buffer): boolean => {
      const p = decode(buf)
      if (p === null || p.type !== ST_DATA || p.payload.length === 0 || seen.has(p.seq)) return false
      seen.add(p.seq)
      if (++dataSent % 7 !== 0) return false
      dropped++
      return true
    }
    // Datagrams of the safe size, so that a MiB makes hundreds of them.
    const { a, b, close } = await pair({}, { drop, loopbackPacketSize: 0 })
    const data = randomBytes(1024 * 1024)
    const got = await transfer(a, b, data)
    assert.ok(got.equals(data))
    assert.ok(dropped > 50, `dropped ${dropped}`)
    a.destroy()
    await close()
  })

  it('carries a BitTorrent handshake between two Wires', TEST_TIMEOUT, async () => {
    const server = new UtpTransport()
    const client = new UtpTransport()
    const infoHash = asInfoHash(Buffer.alloc(20, 0x11))
    const incoming = new Promise<Wire>((resolve) => {
      void server.listen(0, '127.0.0.1', (s) => {
        const wb = new Wire(s, { peerId: asPeerId(Buffer.from('-TL0001-bbbbbbbbbbbb')) })
        wb.once('handshake', (h) => {
          wb.sendHandshake(h.infoHash)
          resolve(wb)
        })
      })
        .then((port) => {
          const wa = new Wire(client.dial('127.0.0.1', port), { peerId: asPeerId(Buffer.from('-TL0001-aaaaaaaaaaaa')) })
          wa.sendHandshake(infoHash)
          outgoing = wa
        })
    })
    let outgoing: Wire | undefined
    const wb = await incoming
    await once(outgoing!, 'handshake')
    assert.equal(wb.peerId?.toString(), '-TL0001-aaaaaaaaaaaa')
    assert.equal(outgoing!.peerId?.toString(), '-TL0001-bbbbbbbbbbbb')
    assert.equal(wb.remoteAddress, '127.0.0.1')
    outgoing!.destroy()
    wb.destroy()
    await client.close()
    await server.close()
  })
})
