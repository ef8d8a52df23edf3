/**
 * The client's listener accepts from every transport it is given, and its half-open cap and
 * handshake timeout count all of them together: a flood over one transport cannot add to a flood
 * over another.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { Listener } from '../../lib/client/listener.js'
import { TcpTransport } from '../../lib/transport/tcp.js'
import type { PeerStream, Transport } from '../../lib/transport/types.js'
import type { TrackerlessError } from '../../lib/errors.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'
import { RawPeer } from '../hostile/raw-peer.js'
import { until } from '../helpers/fixtures.js'

/** A second transport for the test: plain TCP on its own port, named as uTP would be. */
class OtherTransport implements Transport {
  readonly name = 'utp' as const
  port = 0
  private readonly server = net.createServer()
  private readonly sockets = new Set<net.Socket>()
  async listen (_port: number, host: string | undefined, onConnection: (stream: PeerStream) => void): Promise<number> {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      onConnection(socket)
    })
    this.server.listen(0, host)
    await once(this.server, 'listening')
    this.port = (this.server.address() as net.AddressInfo).port
    return _port
  }

  dial (): PeerStream { throw new Error('not used') }
  close (): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

const INFO_HASH = asInfoHash(Buffer.alloc(20, 7))

/** Counts the connections the listener was handed, so a test can wait for each one to arrive. */
const accepted = { count: 0 }
function counted<T extends Transport> (transport: T): T {
  const listen = transport.listen.bind(transport)
  transport.listen = (port, host, onConnection) => listen(port, host, (stream) => { accepted.count++; onConnection(stream) })
  return transport
}

async function setup (t: TestContext, limits: { maxHalfOpen?: number, handshakeTimeout?: number }): Promise<{ tcpPort: number, other: OtherTransport, drops: string[], routed: string[] }> {
  const drops: string[] = []
  const routed: string[] = []
  const other = counted(new OtherTransport())
  accepted.count = 0
  const listener = new Listener(asPeerId(Buffer.alloc(20, 1)), (wire) => { routed.push(wire.transport); return true },
    { ...limits, onDrop: (address: string, err: TrackerlessError) => drops.push(`${err.code} ${address}`) }, [counted(new TcpTransport()), other])
  const tcpPort = await listener.listen(0, '127.0.0.1')
  t.after(() => listener.close())
  return { tcpPort, other, drops, routed }
}

function silent (t: TestContext, port: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  return socket
}

test('connections from every transport reach the torrents, each wire knowing its transport', async (t) => {
  const { tcpPort, other, routed } = await setup(t, {})
  const peers = [RawPeer.connect(tcpPort, { infoHash: INFO_HASH }), RawPeer.connect(other.port, { infoHash: INFO_HASH })]
  t.after(() => { for (const p of peers) p.destroy() })
  await until(() => routed.length === 2, 10_000, 'both handshakes routed')
  assert.deepEqual([...routed].sort(), ['tcp', 'utp'])
})

test('the half-open cap counts every transport: the oldest, whichever it came over, makes room', async (t) => {
  const { tcpPort, other, drops } = await setup(t, { maxHalfOpen: 2 })
  const first = silent(t, tcpPort)
  await once(first, 'connect')
  const firstPort = first.localPort!
  await until(() => accepted.count === 1, 10_000, 'the first connection accepted')
  silent(t, other.port)
  await until(() => accepted.count === 2, 10_000, 'the second connection accepted')
  assert.deepEqual(drops, [])
  silent(t, other.port)
  await until(() => drops.length === 1, 10_000, 'one connection closed to make room')
  assert.equal(drops[0], `EBUSY 127.0.0.1:${firstPort}`)
})

test('the handshake timeout applies to every transport', async (t) => {
  const { other, drops } = await setup(t, { handshakeTimeout: 200 })
  const socket = silent(t, other.port)
  await once(socket, 'connect')
  const port = socket.localPort!
  await until(() => drops.length === 1, 10_000, 'the silent connection timed out')
  assert.equal(drops[0], `ETIMEDOUT 127.0.0.1:${port}`)
})

test('a transport that cannot listen closes the others: the port is not left half taken', async () => {
  // The second transport fails as a UDP port held by another program would.
  const failing: Transport = { name: 'utp', dial: () => { throw new Error('not used') }, close: async () => {}, listen: async () => { throw Object.assign(new Error('port in use'), { code: 'EADDRINUSE' }) } }
  const tcp = new TcpTransport()
  let tcpPort = 0
  const listen = tcp.listen.bind(tcp)
  tcp.listen = async (port, host, onConnection) => (tcpPort = await listen(port, host, onConnection))
  const listener = new Listener(asPeerId(Buffer.alloc(20, 2)), () => true, {}, [tcp, failing])
  await assert.rejects(listener.listen(0, '127.0.0.1'), /port in use/)
  assert.ok(tcpPort > 0)
  const socket = net.connect(tcpPort, '127.0.0.1')
  const outcome = await new Promise<string>((resolve) => {
    socket.once('connect', () => resolve('connected'))
    socket.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message))
  })
  socket.destroy()
  assert.equal(outcome, 'ECONNREFUSED', 'the TCP port was still open')
})
