import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { decodeMessage, encodeMessage, FrameParser, writeMessage, type Frame } from '../../lib/wire/codec.js'
import { decodeHandshake, encodeHandshake } from '../../lib/wire/handshake.js'
import type { Message } from '../../lib/wire/messages.js'
import { copyFrame } from '../helpers/frames.js'
import { throwsCode } from '../helpers/errors.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

/** Every message type with the exact bytes BEP3/BEP6/BEP10 give it. */
const KNOWN: Array<[Message, string]> = [
  [{ type: 'keep-alive' }, '00000000'],
  [{ type: 'choke' }, '00000001 00'],
  [{ type: 'unchoke' }, '00000001 01'],
  [{ type: 'interested' }, '00000001 02'],
  [{ type: 'not-interested' }, '00000001 03'],
  [{ type: 'have', index: 0x01020304 }, '00000005 04 01020304'],
  [{ type: 'bitfield', bitfield: hex('ff80') }, '00000003 05 ff80'],
  [{ type: 'request', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 06 00000001 00004000 00004000'],
  [{ type: 'piece', index: 2, begin: 0x8000, block: hex('deadbeef') }, '0000000d 07 00000002 00008000 deadbeef'],
  [{ type: 'cancel', index: 1, begin: 0x4000, length: 0x4000 }, '0000000d 08 00000001 00004000 00004000'],
  [{ type: 'port', port: 6881 }, '00000003 09 1ae1'],
  [{ type: 'suggest', index: 7 }, '00000005 0d 00000007'],
  [{ type: 'have-all' }, '00000001 0e'],
  [{ type: 'have-none' }, '00000001 0f'],
  [{ type: 'reject', index: 3, begin: 0, length: 0x4000 }, '0000000d 10 00000003 00000000 00004000'],
  [{ type: 'allowed-fast', index: 0xffffffff }, '00000005 11 ffffffff'],
  [{ type: 'extended', id: 0, payload: Buffer.from('de') }, '00000004 14 00 6465'],
  [{ type: 'extended', id: 2, payload: Buffer.from('d1:xi1ee') }, '0000000a 14 02 64313a7869316565']
]

const infoHash = asInfoHash(Buffer.alloc(20, 0xaa))
const peerId = asPeerId(Buffer.from('-TL0001-abcdefghijkl'))
const HANDSHAKE_HEX = '13' + Buffer.from('BitTorrent protocol').toString('hex') +
  '0000000000100005' + 'aa'.repeat(20) + Buffer.from('-TL0001-abcdefghijkl').toString('hex')

function parseAll (parser: FrameParser, chunks: Buffer[]): Frame[] {
  const out: Frame[] = []
  for (const chunk of chunks) {
    for (const frame of parser.push(chunk)) out.push(copyFrame(frame))
  }
  return out
}

function assertEproto (fn: () => unknown): void {
  throwsCode(fn, 'EPROTO')
}

describe('handshake', () => {
  it('encodes the 68 BEP3 bytes with the extended, fast and dht bits', () => {
    const bytes = encodeHandshake({ infoHash, peerId, extended: true, fast: true, dht: true })
    assert.equal(bytes.toString('hex'), HANDSHAKE_HEX)
  })

  it('decodes each reserved bit on its own', () => {
    for (const flags of [
      { extended: true, fast: false, dht: false },
      { extended: false, fast: true, dht: false },
      { extended: false, fast: false, dht: true },
      { extended: false, fast: false, dht: false },
      { extended: false, fast: false, dht: false, v2: true }
    ]) {
      const decoded = decodeHandshake(encodeHandshake({ infoHash, peerId, ...flags }))
      assert.deepEqual({ extended: decoded.extended, fast: decoded.fast, dht: decoded.dht, v2: decoded.v2 }, { v2: false, ...flags })
      assert.ok(decoded.infoHash.equals(infoHash))
      assert.ok(decoded.peerId.equals(peerId))
    }
  })

  it('announces BEP52 v2 support as 0x10 in the last reserved byte, as libtorrent does', () => {
    const bytes = encodeHandshake({ infoHash, peerId, extended: false, fast: false, dht: false, v2: true })
    assert.deepEqual([...bytes.subarray(20, 28)], [0, 0, 0, 0, 0, 0, 0, 0x10])
  })

  it('rejects another protocol with EPROTO', () => {
    const bytes = hex(HANDSHAKE_HEX)
    bytes[1] = 0x62 // 'b'
    assertEproto(() => decodeHandshake(bytes))
    assertEproto(() => decodeHandshake(hex(HANDSHAKE_HEX).subarray(0, 67)))
  })
})

describe('encodeMessage / decodeMessage', () => {
  for (const [msg, bytes] of KNOWN) {
    it(`${msg.type}${msg.type === 'extended' ? ` #${msg.id}` : ''} both ways`, () => {
      assert.equal(encodeMessage(msg).toString('hex'), bytes.replace(/\s+/g, ''))
      const frames = new FrameParser({ handshake: false }).push(hex(bytes))
      assert.deepEqual([...frames], [msg])
    })
  }

  it('hands a piece to the socket as a 13-byte header and the block itself', () => {
    const block = Buffer.alloc(16384, 7)
    const parts: Buffer[] = []
    writeMessage({ type: 'piece', index: 1, begin: 0, block }, (b) => parts.push(b))
    assert.equal(parts.length, 2)
    assert.equal(parts[0]!.length, 13)
    assert.equal(parts[1], block)
  })

  it('returns a block that is a view of the frame, not a copy', () => {
    const frame = hex('07 00000002 00008000 deadbeef')
    const msg = decodeMessage(frame)
    assert.equal(msg?.type, 'piece')
    if (msg?.type !== 'piece') return
    assert.equal(msg.block.buffer, frame.buffer)
    assert.equal(msg.block.byteOffset, frame.byteOffset + 9)
  })

  it('skips unknown message ids', () => {
    assert.equal(decodeMessage(hex('18 0102')), null)
    const parser = new FrameParser({ handshake: false })
    assert.deepEqual([...parser.push(hex('00000003 ff 0102 00000001 01'))], [{ type: 'unchoke' }])
  })

  it('rejects a message of the wrong size for its id with EPROTO', () => {
    for (const frame of ['00 00', '04 000001', '06 00000001 00000000', '07 0000000100', '09 1a', '0e 00', '11', '14', '10 00']) {
      assertEproto(() => decodeMessage(hex(frame)))
    }
  })
})

describe('FrameParser', () => {
  const stream = Buffer.concat([hex(HANDSHAKE_HEX), ...KNOWN.map(([, bytes]) => hex(bytes))])
  const expected: Frame[] = [
    { type: 'handshake', handshake: decodeHandshake(hex(HANDSHAKE_HEX)) },
    ...KNOWN.map(([msg]) => msg)
  ]

  it('yields the handshake and then several messages from one chunk', () => {
    assert.deepEqual(parseAll(new FrameParser(), [stream]), expected)
  })

  it('yields the same frames whatever byte the stream is split at', () => {
    for (let at = 0; at <= stream.length; at++) {
      const frames = parseAll(new FrameParser(), [stream.subarray(0, at), stream.subarray(at)])
      assert.deepEqual(frames, expected, `split at ${at}`)
    }
  })

  it('yields the same frames when every byte arrives alone', () => {
    const chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
    assert.deepEqual(parseAll(new FrameParser(), chunks), expected)
  })

  it('copies a frame spanning chunks once into a buffer of exactly its size', () => {
    const frame = encodeMessage({ type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384, 1) })
    const parser = new FrameParser({ handshake: false })
    assert.deepEqual([...parser.push(frame.subarray(0, 5000))], [])
    assert.equal(parser.buffered, 4996)
    assert.deepEqual([...parser.push(frame.subarray(5000, 10000))], [])
    const [msg] = [...parser.push(frame.subarray(10000))]
    assert.equal(msg?.type, 'piece')
    if (msg?.type !== 'piece') return
    assert.ok(msg.block.equals(Buffer.alloc(16384, 1)))
    assert.equal(msg.block.buffer.byteLength, 9 + 16384)
    assert.equal(parser.buffered, 0)
  })

  it('rejects a frame over maxFrame before buffering it, and stays failed', () => {
    const parser = new FrameParser({ handshake: false, maxFrame: 100 })
    const largest = Buffer.concat([hex('00000064 07'), Buffer.alloc(99)])
    assert.equal([...parser.push(largest)].length, 1)
    assertEproto(() => [...parser.push(hex('00000065'))])
    assert.equal(parser.buffered, 0)
    assertEproto(() => [...parser.push(hex('00000001 01'))])
  })

  it('rejects a 2^31 length prefix even when it arrives byte by byte', () => {
    const parser = new FrameParser({ handshake: false })
    for (const b of [0x80, 0, 0]) assert.equal([...parser.push(Buffer.from([b]))].length, 0)
    assertEproto(() => [...parser.push(Buffer.from([0]))])
  })
})
