import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { TrackerlessError } from '../../../lib/errors.js'
import type { PeerStream } from '../../../lib/transport/types.js'
import type { UtpConnection } from '../../../lib/transport/utp/connection.js'
import { decode, encode, ST_DATA, ST_RESET, ST_STATE, ST_SYN, type Packet, type PacketType } from '../../../lib/transport/utp/packet.js'
import { UtpTransport } from '../../../lib/transport/utp/transport.js'

const TEST_TIMEOUT = { timeout: 20_000 }

function pkt (type: PacketType, connectionId: number, seq: number, ack: number, payload = '', sack?: Uint8Array): Buffer {
  return encode({ type, connectionId, timestamp: 1, timestampDiff: 0, window: 1 << 20, seq, ack, sack, payload: Buffer.from(payload) })
}

/** A raw UDP peer on loopback that records every uTP packet it receives. */
async function rawPeer (): Promise<{ sock: dgram.Socket, port: number, got: Packet[], next: () => Promise<Packet> }> {
  const sock = dgram.createSocket('udp4')
  sock.bind(0, '127.0.0.1')
  await once(sock, 'listening')
  const got: Packet[] = []
  const waiting: Array<(p: Packet) => void> = []
  sock.on('message', (msg: Buffer) => {
    const p = decode(msg)
    if (p === null) return
    got.push(p)
    waiting.shift()?.(p)
  })
  return { sock, port: sock.address().port, got, next: async () => await new Promise((resolve) => waiting.push(resolve)) }
}

/** Waits (bounded by count and time) until `cond` holds. */
async function until (cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(cond(), 'condition not reached within 2 s')
}

describe('uTP against a hostile peer', () => {
  it('holds at most maxHalfOpen connections for a flood of SYNs', TEST_TIMEOUT, async () => {
    const t = new UtpTransport({ maxHalfOpen: 8 })
    const port = await t.listen(0, '127.0.0.1', () => assert.fail('a SYN alone must not reach the listener'))
    const raw = await rawPeer()
    for (let id = 0; id < 100; id++) raw.sock.send(pkt(ST_SYN, id * 2, 1, 0), port, '127.0.0.1')
    const s = t.socket('udp4')!
    await until(() => s.size + s.ignored.syn === 100)
    assert.equal(s.size, 8)
    assert.equal(s.halfOpenCount, 8)
    assert.equal(s.ignored.syn, 92)
    raw.sock.close()
    await t.close()
  })

  it('ignores wrong connection ids, spoofed RESETs, far-out sequence numbers and SACK floods; obeys a true RESET', TEST_TIMEOUT, async () => {
    const t = new UtpTransport()
    let stream: PeerStream | undefined
    const chunks: string[] = []
    const port = await t.listen(0, '127.0.0.1', (s) => {
      stream = s
      s.on('data', (d: Buffer) => chunks.push(d.toString()))
      s.on('error', () => {})
    })
    const raw = await rawPeer()
    const send = (b: Buffer): void => { raw.sock.send(b, port, '127.0.0.1') }
    const R = 1000
    send(pkt(ST_SYN, R, 100, 0))
    const synAck = await raw.next()
    assert.equal(synAck.type, ST_STATE)
    assert.equal(synAck.connectionId, R)
    assert.equal(synAck.ack, 100)
    send(pkt(ST_DATA, R + 1, 101, synAck.seq - 1, 'a'))
    await until(() => chunks.length === 1)
    const sock = t.socket('udp4')!
    send(pkt(ST_DATA, R + 5, 102, synAck.seq - 1, 'x')) // not our connection id
    send(pkt(ST_DATA, R + 1, (101 + 40_000) & 0xffff, synAck.seq - 1, 'y')) // far outside the window
    send(pkt(ST_RESET, R + 7, 0, 0)) // spoofed: wrong id
    const flood = new Uint8Array(252).fill(0xff)
    for (let i = 0; i < 200; i++) send(pkt(ST_STATE, R + 1, 102, synAck.seq - 1, '', flood))
    send(pkt(ST_DATA, R + 1, 102, synAck.seq - 1, 'b'))
    await until(() => chunks.length === 2)
    assert.deepEqual(chunks, ['a', 'b'])
    assert.ok(sock.ignored.unknown >= 2)
    assert.equal(stream!.destroyed, false)
    // After the SACK flood our data still flows: nothing was taken as acked that was never sent.
    stream!.write(Buffer.from('to-peer'))
    await until(() => raw.got.some((p) => p.type === ST_DATA && Buffer.from(p.payload).toString() === 'to-peer'))
    // once(..., 'close') would reject on the 'error' that comes first.
    const closed = new Promise((resolve) => stream!.once('close', resolve))
    const errored = once(stream!, 'error')
    send(pkt(ST_RESET, R + 1, 103, 0))
    const [err] = await errored as [TrackerlessError]
    await closed
    assert.equal(err.code, 'ECLOSED')
    assert.equal((stream as UtpConnection).closeReason, 'reset by the peer')
    raw.sock.close()
    await t.close()
  })

  it('bounds what it sends to a peer that never acknowledges, then times out with the reason', TEST_TIMEOUT, async () => {
    const t = new UtpTransport({ maxRetransmits: 1 })
    const raw = await rawPeer()
    raw.sock.on('message', (msg: Buffer, rinfo) => {
      const p = decode(msg)
      if (p?.type === ST_SYN) raw.sock.send(pkt(ST_STATE, p.connectionId, 500, p.seq), rinfo.port, rinfo.address)
    })
    const s = t.dial('127.0.0.1', raw.port) as UtpConnection
    await once(s, 'connect')
    const data = Buffer.alloc(1024 * 1024, 7)
    assert.equal(s.write(data), false)
    const [err] = await once(s, 'error') as [TrackerlessError]
    assert.equal(err.code, 'ETIMEDOUT')
    assert.equal(s.closeReason, 'retransmission timeout')
    const seqs = new Set(raw.got.filter((p) => p.type === ST_DATA).map((p) => p.seq))
    // LEDBAT's first window is two packets; with no ack it never grows.
    assert.ok(seqs.size <= 2, `sent ${seqs.size} distinct packets`)
    raw.sock.close()
    await t.close()
  })
})
