import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import type DHT from 'bittorrent-dht'
import { Torrent } from '../../index.js'
import type { UdpPort } from '../../lib/transport/udp-port.js'
import type { DhtDiscovery } from '../../lib/discovery/dht.js'
import type { DhtGuardStats } from '../../lib/discovery/dht-guard.js'
import type { UtpTransport } from '../../lib/transport/utp/transport.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { until } from '../helpers/fixtures.js'

const FLOOD = 5000
const ROUND = 250

function internals (c: Torrent): { port: UdpPort, utp: UtpTransport, dht: DHT, guard: () => DhtGuardStats } {
  const inner = c as unknown as { transports: { utp: UtpTransport }, discovery: { dht: DHT, dhtDiscovery: DhtDiscovery } }
  return { port: inner.transports.utp.udpPort('udp4')!, utp: inner.transports.utp, dht: inner.discovery.dht, guard: () => inner.discovery.dhtDiscovery.guardStats }
}

/** A datagram for neither the DHT nor uTP: its first byte is not 'd', nor version 1 with a type up to ST_SYN (4). */
function junk (): Buffer {
  const b = randomBytes(1 + (randomBytes(1)[0]! % 64))
  if (b[0] === 0x64 || ((b[0]! & 0x0f) === 1 && b[0]! >> 4 <= 4)) b[0] = 0xff
  return b
}

test('a flood of datagrams that are neither KRPC nor uTP on the shared port is dropped unread: the DHT and uTP see none of it, and a peer still downloads over uTP', { timeout: 60_000 }, async (t) => {
  const network = await dhtNetwork(1)
  t.after(network.close)
  const seeder = new Torrent({ dht: [network.bootstrap], lsd: false, pex: false, natTraversal: false, host: '127.0.0.1' })
  t.after(() => seeder.stop())
  await seeder.start()
  const { port, utp, dht, guard } = internals(seeder)
  const sock = utp.socket('udp4')!
  /** Datagrams that someone read: dropped as junk, or refused by the DHT's guard or by uTP. */
  const handled = (): number => port.dropped.junk + guard().unsolicited + guard().rateLimited + sock.ignored.syn + sock.ignored.unknown
  assert.equal(seeder.dhtPort, seeder.port)
  let warnings = 0
  dht.on('warning', () => { warnings++ })

  const attacker = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', resolve))
  t.after(() => attacker.close())
  // In rounds, so that the kernel's receive buffer does not drop them before they are counted.
  for (let sent = 0; sent < FLOOD; sent += ROUND) {
    for (let i = 0; i < ROUND; i++) attacker.send(junk(), seeder.port, '127.0.0.1')
    await until(() => handled() >= sent + ROUND, 10_000, `${sent + ROUND} junk datagrams read (${handled()})`)
  }
  assert.equal(warnings + guard().unsolicited + guard().rateLimited, 0, 'junk reached the DHT')
  assert.deepEqual(sock.ignored, { syn: 0, unknown: 0 }, 'junk reached uTP')
  assert.equal(port.dropped.junk, FLOOD)

  const draft = new Torrent.Archive()
  const data = randomBytes(200 * 1024)
  await draft.writeFile('/a.bin', data)
  const magnet = await seeder.seed(draft)
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1', tcp: false })
  t.after(() => leecher.stop())
  await leecher.start()
  const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  assert.ok((await archive.readFile('/a.bin') as Buffer).equals(data))
})
