import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Torrent, type TorrentOptions } from '../../index.js'
import { UTP_PORT_WARNING, type ClientTransports } from '../../lib/client/transports.js'
import type { TransportName } from '../../lib/transport/types.js'

function client (t: { after: (fn: () => Promise<void>) => void }, opts: TorrentOptions = {}): Torrent {
  const c = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1', ...opts })
  t.after(() => c.stop())
  return c
}

/** The transport the client's dialler remembers for an address (undefined: the default, TCP). */
function remembered (c: Torrent, address: string): TransportName | undefined {
  return (c as unknown as { transports: ClientTransports }).transports.dialler.remembered(address)?.transport
}

test('tcp: false with utp: false is refused with EINVAL, naming both options', () => {
  assert.throws(() => new Torrent({ tcp: false, utp: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'EINVAL')
    assert.match(err.message, /tcp: false and utp: false/)
    return true
  })
})

test('a dhtPort equal to torrentPort leaves uTP off with a warning (the DHT keeps its port); with TCP off it is EINVAL', async (t) => {
  const warnings: Array<Error & { code?: string }> = []
  const onWarning = (w: Error & { code?: string }): void => { warnings.push(w) }
  process.on('warning', onWarning)
  t.after(() => { process.off('warning', onWarning) })
  const c = client(t, { torrentPort: 0, dhtPort: 0 })
  await c.start()
  // Port 0 for both: the system picks two ports, nothing to warn of.
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(warnings.length, 0)
  const port = c.port
  await c.stop()
  const same = client(t, { torrentPort: port, dhtPort: port, dht: [] })
  await new Promise((resolve) => setImmediate(resolve))
  assert.ok(warnings.some((w) => w.code === UTP_PORT_WARNING), 'no warning that uTP is off')
  assert.equal(warnings.filter((w) => w.code === UTP_PORT_WARNING).length, 1)
  await same.start()
  assert.equal(same.port, port)
  assert.equal(same.dhtPort, port)
  assert.throws(() => new Torrent({ torrentPort: port, dhtPort: port, tcp: false }), { code: 'EINVAL' })
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
