import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { it } from 'node:test'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'
import { dialWire } from '../../lib/wire/dial.js'
import { Wire } from '../../lib/wire/wire.js'

const INFO_HASH = asInfoHash(Buffer.alloc(20, 0x11))
const BLOCKS = 160

/** A listening peer that answers the handshake and then sends `blocks`, one piece message each. */
async function sender (blocks: readonly Buffer[], id: string): Promise<{ port: number, server: net.Server }> {
  const server = net.createServer((socket) => {
    const wire = new Wire(socket, { peerId: asPeerId(Buffer.from(id.padEnd(20, 's'))) })
    wire.once('handshake', (h) => {
      wire.sendHandshake(h.infoHash)
      blocks.forEach((block, i) => wire.send({ type: 'piece', index: i, begin: 0, block }))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { port: (server.address() as net.AddressInfo).port, server }
}

/** Every block `wire` receives, copied as the message contract asks. */
function received (wire: Wire, count: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = []
    wire.on('message', (msg) => {
      if (msg.type !== 'piece') return
      got[msg.index] = Buffer.from(msg.block)
      if (got.filter(Boolean).length === count) resolve(got)
    })
    wire.once('close', (err) => reject(err ?? new Error('closed before every block came')))
  })
}

it('dialled wires that share one read buffer each get their own peer\'s bytes', { timeout: 20_000 }, async () => {
  const streams = [0, 1, 2].map(() => Array.from({ length: BLOCKS }, () => randomBytes(BLOCK_SIZE)))
  const senders = await Promise.all(streams.map((blocks, i) => sender(blocks, `-TL0001-sender${i}`)))
  const wires = senders.map(({ port }, i) => dialWire('127.0.0.1', port, { peerId: asPeerId(Buffer.from(`-TL0001-reader${i}`.padEnd(20, 'r'))) }))
  try {
    const done = wires.map((wire) => received(wire, BLOCKS))
    for (const wire of wires) wire.sendHandshake(INFO_HASH)
    const got = await Promise.all(done)
    got.forEach((blocks, i) => blocks.forEach((block, j) => {
      assert.ok(block.equals(streams[i]![j]!), `reader ${i} block ${j} differs from what its peer sent`)
    }))
  } finally {
    for (const wire of wires) wire.destroy()
    for (const { server } of senders) server.close()
  }
})
