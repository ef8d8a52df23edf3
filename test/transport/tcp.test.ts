import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import { it } from 'node:test'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'
import { dialWire } from '../../lib/wire/peer-socket.js'
import { TcpTransport } from '../../lib/transport/tcp.js'
import { Wire } from '../../lib/wire/wire.js'

const INFO_HASH = asInfoHash(Buffer.alloc(20, 0x11))
const BLOCKS = 160

const id = (name: string): ReturnType<typeof asPeerId> => asPeerId(Buffer.from(name.padEnd(20, '.')))

/** Sends our handshake and then `blocks`, one piece message each. */
function sendAll (wire: Wire, blocks: readonly Buffer[]): void {
  wire.sendHandshake(INFO_HASH)
  blocks.forEach((block, i) => wire.send({ type: 'piece', index: i, begin: 0, block }))
}

/** A listening peer with a plain socket that sends `blocks` to whoever dials it. */
async function sender (blocks: readonly Buffer[], name: string): Promise<net.Server> {
  const server = net.createServer((socket) => {
    const wire = new Wire(socket, { peerId: id(name) })
    wire.once('handshake', () => sendAll(wire, blocks))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

const portOf = (server: net.Server): number => (server.address() as net.AddressInfo).port

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

const streamsOf = (n: number): Buffer[][] => Array.from({ length: n }, () => Array.from({ length: BLOCKS }, () => randomBytes(BLOCK_SIZE)))

function checkEach (got: Buffer[][], streams: Buffer[][], who: string): void {
  got.forEach((blocks, i) => blocks.forEach((block, j) => {
    assert.ok(block.equals(streams[i]![j]!), `${who} ${i} block ${j} differs from what its peer sent`)
  }))
}

it('dialled and accepted wires that share one read buffer each get their own peer\'s bytes', { timeout: 20_000 }, async () => {
  // Three peers we dial, and three that dial us, all sending at once.
  const toDial = streamsOf(3)
  const senders = await Promise.all(toDial.map((blocks, i) => sender(blocks, `-TL0001-sender${i}`)))
  const toAccept = streamsOf(3)
  const accepted: Array<Promise<Buffer[]>> = []
  const acceptedWires: Wire[] = []
  const tcp = new TcpTransport()
  const listenPort = await tcp.listen(0, '127.0.0.1', (stream) => {
    const wire = new Wire(stream, { peerId: id('-TL0001-listener') })
    acceptedWires.push(wire)
    accepted.push(received(wire, BLOCKS))
  })
  const dialled = senders.map((server, i) => dialWire(tcp, '127.0.0.1', portOf(server), { peerId: id(`-TL0001-reader${i}`) }))
  const dialling = toAccept.map((_, i) => new Wire(net.connect(listenPort, '127.0.0.1'), { peerId: id(`-TL0001-dialler${i}`) }))
  try {
    const fromDialled = Promise.all(dialled.map((wire) => received(wire, BLOCKS)))
    for (const wire of dialled) wire.sendHandshake(INFO_HASH)
    dialling.forEach((wire, i) => sendAll(wire, toAccept[i]!))
    checkEach(await fromDialled, toDial, 'dialled reader')
    // Accepted in any order: match each reader to its dialler by the dialler's local port.
    const got = await Promise.all(accepted)
    const order = dialling.map((wire) => acceptedWires.findIndex((a) => a.remotePort === (wire.socket as unknown as net.Socket).localPort))
    assert.deepEqual([...order].sort(), [0, 1, 2], 'each dialler reached one accepted wire, which knows its address')
    checkEach(order.map((i) => got[i]!), toAccept, 'accepted reader')
  } finally {
    for (const wire of [...dialled, ...dialling, ...acceptedWires]) wire.destroy()
    for (const server of senders) server.close()
    await tcp.close()
  }
})
