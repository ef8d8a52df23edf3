/**
 * The dialler's encryption policy against our listener in each policy, over TCP and uTP: which
 * openings reach the peer (seen by the listener's transport), whether the peer is reached, what is
 * remembered for the address, and the reason when it is not reached.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { Dialler } from '../../lib/client/dialler.js'
import { Listener } from '../../lib/client/listener.js'
import { TcpTransport } from '../../lib/transport/tcp.js'
import { UtpTransport } from '../../lib/transport/utp/transport.js'
import type { Transport, TransportName } from '../../lib/transport/types.js'
import type { EncryptionPolicy } from '../../lib/transport/mse/policy.js'
import type { Wire } from '../../lib/wire/wire.js'
import { TrackerlessError } from '../../lib/errors.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'

const INFO_HASH = asInfoHash(Buffer.alloc(20, 5))
const PROTOCOL = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol')])

function transportOf (name: TransportName): Transport {
  return name === 'tcp' ? new TcpTransport() : new UtpTransport()
}

/** Our listener under `policy`; `openings` gets 'plain' or 'mse' for each connection, by its first bytes. */
async function listener (t: TestContext, name: TransportName, policy: EncryptionPolicy): Promise<{ port: number, openings: string[] }> {
  const openings: string[] = []
  const transport = transportOf(name)
  const listen = transport.listen.bind(transport)
  transport.listen = (port, host, onConnection) => listen(port, host, (stream) => {
    stream.prependOnceListener('data', (chunk: Buffer) => { openings.push(chunk.subarray(0, 20).equals(PROTOCOL) ? 'plain' : 'mse') })
    onConnection(stream)
  })
  const l = new Listener(asPeerId(Buffer.alloc(20, 1)), (wire) => { wire.sendHandshake(INFO_HASH); return true }, {}, [transport], { policy, infoHashes: () => [INFO_HASH] })
  t.after(() => l.close())
  return { port: await l.listen(0, '127.0.0.1'), openings }
}

/** A dialler under `policy` and how many connections it opened. */
function dialler (t: TestContext, name: TransportName, policy: EncryptionPolicy): { dialler: Dialler, dials: () => number } {
  const transport = transportOf(name)
  let dials = 0
  const dial = transport.dial.bind(transport)
  transport.dial = (host, port, options) => { dials++; return dial(host, port, options) }
  t.after(() => transport.close())
  return { dialler: new Dialler([transport], policy), dials: () => dials }
}

/** Dials and sends our handshake, as a swarm does; resolves to 'handshake' or the close's error. */
async function reach (d: Dialler, port: number): Promise<'handshake' | Error | undefined> {
  const wire: Wire = d.dial('127.0.0.1', port, { peerId: asPeerId(Buffer.alloc(20, 2)), connectTimeout: 5000 })
  wire.sendHandshake(INFO_HASH)
  const outcome = await new Promise<'handshake' | Error | undefined>((resolve) => {
    wire.once('handshake', () => resolve('handshake'))
    wire.once('close', (err?: Error) => resolve(err))
  })
  wire.destroy()
  return outcome
}

const cases: Array<[EncryptionPolicy, EncryptionPolicy, string[], boolean, TransportName[]]> = [
  // dialler, listener, openings seen, reached, transports
  ['prefer', 'prefer', ['mse'], true, ['tcp', 'utp']],
  ['prefer', 'disable', ['mse', 'plain'], true, ['tcp', 'utp']],
  ['allow', 'prefer', ['plain'], true, ['tcp']],
  ['allow', 'require', ['plain', 'mse'], true, ['tcp', 'utp']],
  ['require', 'prefer', ['mse'], true, ['tcp', 'utp']],
  ['require', 'disable', ['mse'], false, ['tcp']],
  ['disable', 'require', ['plain'], false, ['tcp']],
  ['disable', 'prefer', ['plain'], true, ['tcp']]
]

for (const [ours, theirs, openings, reached, transports] of cases) {
  for (const name of transports) {
    test(`${name}: dialling with '${ours}' a peer under '${theirs}' opens ${openings.join(' then ')}${reached ? '' : ' and fails'}`, async (t) => {
      const peer = await listener(t, name, theirs)
      const { dialler: d, dials } = dialler(t, name, ours)
      const outcome = await reach(d, peer.port)
      assert.deepEqual(peer.openings, openings)
      assert.equal(dials(), openings.length)
      if (reached) {
        assert.equal(outcome, 'handshake')
      } else if (ours === 'require') {
        assert.ok(outcome instanceof TrackerlessError, 'the connection failed without a reason')
        assert.match(outcome.message, /did not complete the encryption handshake .*encryption 'require' insists on: use 'prefer'/)
      } else {
        assert.notEqual(outcome, 'handshake')
      }
      // The usual opening is not remembered: a map entry per peer would hold nothing.
      if (openings.length === 1 && reached) assert.equal(d.remembered(`127.0.0.1:${peer.port}`), undefined)
      if (openings.length === 2 && reached) {
        // What answered is tried first next time: one connection, no retry.
        const address = `127.0.0.1:${peer.port}`
        assert.equal(d.remembered(address)?.opening, openings[1])
        assert.equal(await reach(d, peer.port), 'handshake')
        assert.deepEqual(peer.openings, [...openings, openings[1]])
        assert.equal(dials(), 3)
      }
    })
  }
}

test('a peer that drops every connection at once is tried once each way under \'prefer\', and the reason names both', async (t) => {
  const server = net.createServer((socket) => socket.destroy())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const { dialler: d, dials } = dialler(t, 'tcp', 'prefer')
  const outcome = await reach(d, (server.address() as net.AddressInfo).port)
  assert.equal(dials(), 2)
  assert.ok(outcome instanceof TrackerlessError)
  assert.match(outcome.message, /dropped us both with and without encryption: .*encryption handshake.*; then the peer closed the connection before its BitTorrent handshake/)
  assert.equal(d.remembered(`127.0.0.1:${(server.address() as net.AddressInfo).port}`)?.opening, undefined)
})

test('a refused connection is not retried without encryption: that is no answer to the encryption', async (t) => {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  const { dialler: d, dials } = dialler(t, 'tcp', 'prefer')
  const outcome = await reach(d, port)
  assert.equal(dials(), 1)
  assert.ok(outcome instanceof Error)
  assert.equal((outcome as NodeJS.ErrnoException).code, 'ECONNREFUSED')
})
