import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Torrent, type TorrentOptions } from '../../index.js'
import type { ClientTransports } from '../../lib/client/transports.js'
import type { TransportName } from '../../lib/transport/types.js'
import type { UdpPort } from '../../lib/transport/udp-port.js'
import type { UtpTransport } from '../../lib/transport/utp/transport.js'
import { dhtNetwork } from '../helpers/dht-network.js'

function client (t: { after: (fn: () => Promise<void>) => void }, opts: TorrentOptions = {}): Torrent {
  const c = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1', ...opts })
  t.after(() => c.stop())
  return c
}

/** The transport the client's dialler remembers for an address (undefined: the default, TCP). */
function remembered (c: Torrent, address: string): TransportName | undefined {
  return (c as unknown as { transports: ClientTransports }).transports.dialler.remembered(address)?.transport
}

function transportsOf (c: Torrent): ClientTransports {
  return (c as unknown as { transports: ClientTransports }).transports
}

/** The UDP port of the client's uTP transport (IPv4). */
function utpPort (c: Torrent): UdpPort | undefined {
  return (transportsOf(c) as unknown as { utp: UtpTransport | null }).utp?.udpPort('udp4')
}

/** Live UDP sockets of this process (a closed socket leaves the list at the next turn of the loop). */
async function udpSockets (): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 5))
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
}

test('tcp: false with utp: false is refused with EINVAL, naming both options', () => {
  assert.throws(() => new Torrent({ tcp: false, utp: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'EINVAL')
    assert.match(err.message, /tcp: false and utp: false/)
    return true
  })
})

test('the DHT shares uTP\'s UDP socket by default and with dhtPort equal to torrentPort (the founding usage): one UDP socket, uTP on', async (t) => {
  const bootstrap = await dhtNetwork(1)
  t.after(() => bootstrap.close())
  const before = await udpSockets()
  const c = client(t, { dht: [bootstrap.bootstrap] })
  await c.start()
  assert.equal(c.dhtPort, c.port)
  assert.equal(await udpSockets(), before + 1, 'the client bound more than one UDP socket')
  assert.equal(utpPort(c)?.channel('dht'), null, 'the DHT did not take the shared socket\'s channel')
  const port = c.port
  await c.stop()
  assert.equal(await udpSockets(), before, 'a UDP socket outlived stop()')
  for (const opts of [{ torrentPort: port, dhtPort: port }, { torrentPort: port, dhtPort: port, tcp: false }, { torrentPort: 0, dhtPort: 0 }]) {
    const same = client(t, { dht: [bootstrap.bootstrap], ...opts })
    await same.start()
    assert.equal(same.dhtPort, same.port, JSON.stringify(opts))
    assert.equal(await udpSockets(), before + 1, JSON.stringify(opts))
    assert.equal(transportsOf(same).has('utp'), true)
    await same.stop()
  }
})

test('a dhtPort other than the peer port keeps the DHT on its own socket; with uTP off the DHT binds its own too', async (t) => {
  const before = await udpSockets()
  const free = client(t, { dht: [] })
  await free.start()
  const dhtPort = free.port
  await free.stop()
  const own = client(t, { dht: [], dhtPort })
  await own.start()
  assert.equal(own.dhtPort, dhtPort)
  assert.notEqual(own.port, dhtPort)
  assert.notEqual(utpPort(own)?.channel('dht') ?? null, null, 'the shared socket\'s DHT channel was taken')
  assert.equal(await udpSockets(), before + 2)
  const tcpOnly = client(t, { dht: [], utp: false })
  await tcpOnly.start()
  assert.notEqual(tcpOnly.dhtPort, 0)
})

test('two clients with TCP off exchange a torrent over uTP', async (t) => {
  const seeder = client(t, { tcp: false })
  await seeder.start()
  const draft = new Torrent.Archive()
  const data = Buffer.alloc(1024 * 1024 + 3, 7)
  await draft.writeFile('/a.bin', data)
  const magnet = await seeder.seed(draft)
  const leecher = client(t, { tcp: false })
  await leecher.start()
  const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  assert.ok((await archive.readFile('/a.bin') as Buffer).equals(data))
})

test('a client with both on reaches a uTP-only peer after its TCP dial fails, and dials it over uTP from then on', async (t) => {
  const seeder = client(t, { tcp: false })
  await seeder.start()
  const draft = new Torrent.Archive()
  const data = Buffer.alloc(300 * 1024, 9)
  await draft.writeFile('/b.bin', data)
  const magnet = await seeder.seed(draft)
  const leecher = client(t)
  await leecher.start()
  const address = `127.0.0.1:${seeder.port}`
  assert.equal(remembered(leecher, address), undefined)
  const archive = await leecher.lookup(magnet, { peers: [address], timeout: 10_000 })
  assert.ok((await archive.readFile('/b.bin') as Buffer).equals(data))
  assert.equal(remembered(leecher, address), 'utp')
})

test('a peer PEX flags as speaking uTP is dialled over uTP first (with uTP off: TCP)', async (t) => {
  const both = client(t)
  transportsOf(both).speaksUtp('10.0.0.1:6881')
  assert.equal(remembered(both, '10.0.0.1:6881'), 'utp')
  const tcpOnly = client(t, { utp: false })
  transportsOf(tcpOnly).speaksUtp('10.0.0.1:6881')
  assert.equal(remembered(tcpOnly, '10.0.0.1:6881'), undefined)
})
