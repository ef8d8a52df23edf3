import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { describe, it } from 'node:test'
import { TrackerlessError } from '../../lib/errors.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { encodeHandshake } from '../../lib/wire/handshake.js'
import type { Message } from '../../lib/wire/messages.js'
import { Wire, type WireOptions } from '../../lib/wire/wire.js'

const TEST_TIMEOUT = { timeout: 10_000 }
const INFO_HASH = asInfoHash(Buffer.alloc(20, 0x11))
const OTHER_HASH = asInfoHash(Buffer.alloc(20, 0x22))
const ID_A = asPeerId(Buffer.from('-TL0001-aaaaaaaaaaaa'))
const ID_B = asPeerId(Buffer.from('-TL0001-bbbbbbbbbbbb'))

type Options = Partial<WireOptions>

/** A connected pair of sockets over 127.0.0.1: the connecting one first. */
async function socketPair (): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const outgoing = net.connect(port, '127.0.0.1')
  const [incoming] = await accepted
  server.close()
  return [outgoing, incoming]
}

/** `a` connects out to `b`; neither has sent a handshake yet. */
async function wirePair (a: Options = {}, b: Options = {}): Promise<[Wire, Wire]> {
  const [outgoing, incoming] = await socketPair()
  return [new Wire(outgoing, { peerId: ID_A, ...a }), new Wire(incoming, { peerId: ID_B, ...b })]
}

/** Both wires handshaken the way a client does it: outgoing at once, incoming after routing. */
async function handshaken (a: Options = {}, b: Options = {}): Promise<[Wire, Wire]> {
  const [wa, wb] = await wirePair(a, b)
  wb.once('handshake', (h) => wb.sendHandshake(h.infoHash))
  const done = Promise.all([once(wa, 'handshake'), once(wb, 'handshake')])
  wa.sendHandshake(INFO_HASH)
  await done
  return [wa, wb]
}

async function closeError (wire: Wire): Promise<Error | undefined> {
  const [err] = await once(wire, 'close') as [Error | undefined]
  return err
}

function codeOf (err: Error | undefined): string | undefined {
  return err instanceof TrackerlessError ? err.code : undefined
}

/** The next `n` messages, with their buffers copied (they are views valid only during the event). */
function messages (wire: Wire, n: number): Promise<Message[]> {
  return new Promise((resolve) => {
    const got: Message[] = []
    const onMessage = (msg: Message): void => {
      got.push(copy(msg))
      if (got.length < n) return
      wire.off('message', onMessage)
      resolve(got)
    }
    wire.on('message', onMessage)
  })
}

function copy (msg: Message): Message {
  switch (msg.type) {
    case 'piece': return { ...msg, block: Buffer.from(msg.block) }
    case 'bitfield': return { ...msg, bitfield: Buffer.from(msg.bitfield) }
    case 'extended': return { ...msg, payload: Buffer.from(msg.payload) }
    default: return msg
  }
}

const EVERY_MESSAGE: Message[] = [
  { type: 'keep-alive' },
  { type: 'choke' },
  { type: 'unchoke' },
  { type: 'interested' },
  { type: 'not-interested' },
  { type: 'have', index: 42 },
  { type: 'bitfield', bitfield: Buffer.from([0xff, 0x80]) },
  { type: 'request', index: 1, begin: 16384, length: 16384 },
  { type: 'piece', index: 1, begin: 16384, block: Buffer.alloc(16384, 0x5a) },
  { type: 'cancel', index: 1, begin: 16384, length: 16384 },
  { type: 'port', port: 6881 },
  { type: 'suggest', index: 3 },
  { type: 'have-all' },
  { type: 'have-none' },
  { type: 'reject', index: 1, begin: 0, length: 16384 },
  { type: 'allowed-fast', index: 9 }
]

describe('Wire over TCP on 127.0.0.1', () => {
  it('handshakes in both roles and reports the peer', TEST_TIMEOUT, async () => {
    const [a, b] = await wirePair()
    b.once('handshake', (h) => b.sendHandshake(h.infoHash, { extended: true, fast: false, dht: true }))
    const handshakes = Promise.all([once(a, 'handshake'), once(b, 'handshake')])
    a.sendHandshake(INFO_HASH)
    const [[ha], [hb]] = await handshakes
    assert.deepEqual({ ...ha, infoHash: [...ha.infoHash], peerId: ha.peerId.toString() },
      { infoHash: [...INFO_HASH], peerId: ID_B.toString(), extended: true, fast: false, dht: true, v2: false })
    assert.deepEqual({ ...hb, infoHash: [...hb.infoHash], peerId: hb.peerId.toString() },
      { infoHash: [...INFO_HASH], peerId: ID_A.toString(), extended: true, fast: true, dht: false, v2: false })
    assert.ok(a.peerId?.equals(ID_B))
    assert.ok(b.infoHash?.equals(INFO_HASH))
    assert.equal(a.peerSupportsFast, false)
    assert.equal(b.peerSupportsFast, true)
    assert.equal(a.remoteAddress, '127.0.0.1')
    assert.equal(b.remotePort, (a.socket as unknown as net.Socket).localPort)
    a.destroy()
    b.destroy()
  })

  it('carries every message type each way and counts piece bytes', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    for (const [from, to] of [[a, b], [b, a]] as const) {
      const received = messages(to, EVERY_MESSAGE.length)
      for (const msg of EVERY_MESSAGE) from.send(msg)
      assert.deepEqual(await received, EVERY_MESSAGE)
    }
    assert.equal(a.uploadedBytes, 16384)
    assert.equal(a.downloadedBytes, 16384)
    assert.equal(b.uploadedBytes, 16384)
    a.destroy()
    b.destroy()
  })

  it('exchanges extended handshakes and routes extension messages by name', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    assert.equal(a.sendExtended('ut_metadata', Buffer.from('x')), false)
    const handshakes = Promise.all([once(a, 'extended-handshake'), once(b, 'extended-handshake')])
    a.sendExtendedHandshake({ m: {}, v: 'A', reqq: 250 })
    b.sendExtendedHandshake({ m: {}, metadataSize: 1234, p: 6881 })
    const [[ea], [eb]] = await handshakes
    assert.deepEqual(ea, { m: { ut_metadata: 1, ut_pex: 2, lt_donthave: 3, ut_holepunch: 4, upload_only: 5 }, metadataSize: 1234, p: 6881 })
    assert.deepEqual(eb, { m: { ut_metadata: 1, ut_pex: 2, lt_donthave: 3, ut_holepunch: 4, upload_only: 5 }, v: 'A', reqq: 250 })
    assert.equal(a.peerExtensions, ea)

    const routed = once(b, 'extended')
    assert.equal(a.sendExtended('ut_metadata', Buffer.from('d8:msg_typei0e5:piecei0ee')), true)
    const [name, payload] = await routed as [string, Buffer]
    assert.equal(name, 'ut_metadata')
    assert.equal(payload.toString(), 'd8:msg_typei0e5:piecei0ee')

    // A later handshake updates only what it names; id 0 switches an extension off.
    const update = once(a, 'extended-handshake')
    b.send({ type: 'extended', id: 0, payload: Buffer.from('d1:md6:ut_pexi0eee') })
    await update
    assert.deepEqual(a.peerExtensions?.m, { ut_metadata: 1, ut_pex: 0, lt_donthave: 3, ut_holepunch: 4, upload_only: 5 })
    assert.equal(a.peerExtensions?.metadataSize, 1234)
    assert.equal(a.sendExtended('ut_pex', Buffer.from('de')), false)
    a.destroy()
    b.destroy()
  })

  it('sends keep-alives when it has nothing else to send', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken({ keepAliveInterval: 10 })
    assert.deepEqual(await messages(b, 1), [{ type: 'keep-alive' }])
    a.destroy()
    b.destroy()
  })

  it('closes with ETIMEDOUT when no handshake comes', TEST_TIMEOUT, async () => {
    const [outgoing, incoming] = await socketPair()
    const wire = new Wire(incoming, { peerId: ID_B, handshakeTimeout: 20 })
    assert.equal(codeOf(await closeError(wire)), 'ETIMEDOUT')
    assert.equal(wire.destroyed, true)
    outgoing.destroy()
  })

  it('closes with ETIMEDOUT when the peer goes quiet', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken({}, { idleTimeout: 20 })
    const [errA, errB] = await Promise.all([closeError(a), closeError(b)])
    assert.equal(codeOf(errB), 'ETIMEDOUT')
    assert.equal(errA, undefined)
  })

  it('closes with EPROTO when the peer answers with another infohash', TEST_TIMEOUT, async () => {
    const [outgoing, incoming] = await socketPair()
    const wire = new Wire(outgoing, { peerId: ID_A })
    incoming.on('error', () => {})
    incoming.write(encodeHandshake({ infoHash: OTHER_HASH, peerId: ID_B, extended: true, fast: true, dht: false }))
    wire.sendHandshake(INFO_HASH)
    assert.equal(codeOf(await closeError(wire)), 'EPROTO')
    incoming.destroy()
  })

  it('closes with EPROTO when the owner answers an incoming handshake with another infohash', TEST_TIMEOUT, async () => {
    const [a, b] = await wirePair()
    b.once('handshake', () => b.sendHandshake(OTHER_HASH))
    const closed = Promise.all([closeError(a), closeError(b)])
    a.sendHandshake(INFO_HASH)
    const [errA, errB] = await closed
    assert.equal(errA, undefined)
    assert.equal(codeOf(errB), 'EPROTO')
  })

  it('closes with EPROTO on a 2^31-byte frame length', TEST_TIMEOUT, async () => {
    const [outgoing, incoming] = await socketPair()
    const wire = new Wire(incoming, { peerId: ID_B })
    wire.once('handshake', (h) => wire.sendHandshake(h.infoHash))
    outgoing.on('error', () => {})
    outgoing.write(Buffer.concat([
      encodeHandshake({ infoHash: INFO_HASH, peerId: ID_A, extended: false, fast: false, dht: false }),
      Buffer.from([0x80, 0, 0, 0, 7])
    ]))
    assert.equal(codeOf(await closeError(wire)), 'EPROTO')
    outgoing.destroy()
  })

  it('reports a reset connection through close, never as an error event', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    const closed = closeError(b)
    a.socket.resetAndDestroy()
    const err = await closed
    assert.equal((err as NodeJS.ErrnoException | undefined)?.code, 'ECONNRESET')
    assert.equal(b.listenerCount('error'), 0)
    a.destroy()
  })

  it('emits close once, with the reason given to destroy', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    let closes = 0
    a.on('close', () => closes++)
    const reason = new Error('done with this peer')
    a.destroy(reason)
    a.destroy(new Error('second'))
    assert.equal(await closeError(a), reason)
    assert.equal(a.send({ type: 'choke' }), false)
    await closeError(b)
    assert.equal(closes, 1)
  })

  it('signals backpressure and drains', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken({ writeHighWaterMark: 64 * 1024 })
    const block = Buffer.alloc(16384, 1)
    let sent = 0
    while (sent < 1000 && a.send({ type: 'piece', index: 0, begin: sent * 16384, block })) sent++
    sent++
    assert.equal(a.writableNeedDrain, true)
    assert.ok(sent < 1000)
    const received = messages(b, sent)
    await once(a, 'drain')
    assert.equal((await received).length, sent)
    assert.equal(b.downloadedBytes, sent * 16384)
    a.destroy()
    b.destroy()
  })

  it('has room for half a second at the peer\'s rate (two blocks at least, its mark at most); no room arms drain', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    void (b.socket as unknown as net.Socket).pause()
    const block = Buffer.alloc(16384, 3)
    // Until the kernel's buffers are full and 40 KiB wait in the socket itself.
    for (let round = 0; round < 400 && a.socket.writableLength < 40 * 1024; round++) {
      a.send({ type: 'piece', index: 0, begin: 0, block })
      if (a.socket.writableLength === 0) await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const queued = a.socket.writableLength
    assert.ok(queued >= 40 * 1024 && queued < 128 * 1024, `queued ${queued}`)
    assert.equal(a.writableNeedDrain, false, 'below the wire\'s own mark')
    assert.equal(a.hasRoom(0, 0), false, 'a peer we send nothing yet gets two blocks queued')
    assert.equal(a.hasRoom(0, 20 * 1024), false, '10 KiB in half a second')
    assert.equal(a.hasRoom(0, 400 * 1024), true, '200 KiB in half a second')
    assert.equal(a.hasRoom(256 * 1024 - queued, 1e9), false, 'never above the wire\'s mark, 256 KiB')
    const drained = once(a, 'drain')
    void (b.socket as unknown as net.Socket).resume()
    await drained
    a.destroy()
    b.destroy()
  })

  it('tells when the socket has sent what was queued by a mark, and counts the handshake', TEST_TIMEOUT, async () => {
    const [a, b] = await handshaken()
    assert.equal(a.queuedBytes, 68)
    // The peer stops reading: the kernel's buffers fill and the rest waits in the socket.
    void (b.socket as unknown as net.Socket).pause()
    const block = Buffer.alloc(16384, 2)
    // Batches until the kernel's buffers are full and some stays in our socket.
    let sent = 0
    for (let round = 0; round < 400 && a.socket.writableLength === 0; round++) {
      let room = true
      while (room) {
        room = a.send({ type: 'piece', index: 0, begin: 0, block })
        sent++
      }
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const mark = a.queuedBytes
    assert.equal(mark, 68 + sent * (13 + 16384))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(a.hasSent(mark), false, 'a peer that reads nothing cannot have taken it all')
    const received = messages(b, sent)
    void (b.socket as unknown as net.Socket).resume()
    await received
    assert.equal(a.hasSent(mark), true)
    assert.equal(a.hasSent(mark + 1), false, 'nothing past the mark was queued')
    a.destroy()
    assert.equal(a.hasSent(mark + 1), true, 'a destroyed wire sends nothing more')
    b.destroy()
  })
})
