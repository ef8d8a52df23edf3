import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import net from 'node:net'
import { Torrent } from '../../index.js'
import { formatAddress } from '../../lib/discovery/address.js'
import { PeerExchange, type PexPeer } from '../../lib/discovery/pex.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { encodePexMessage, MAX_PEX_PEERS, type PexEntry } from '../../lib/wire/ut-pex.js'
import { once, until } from '../helpers/fixtures.js'
import { MiB, RawPeer, rawServer, scene } from './raw-peer.js'

/** TCP ports on 127.0.0.1 where nothing listens (bound, then closed): a dial there is refused. */
async function deadPorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => resolve(server))
  })))
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** Every address this process dials with net.connect from now until the test ends. */
function recordDials (t: TestContext): string[] {
  const dials: string[] = []
  const mutable = net as { connect: typeof net.connect }
  const original = mutable.connect
  mutable.connect = ((...args: Parameters<typeof net.connect>) => {
    const options = args[0] as { host?: string, port?: number | string }
    if (typeof options === 'object' && options.port !== undefined) dials.push(formatAddress(options.host ?? 'localhost', Number(options.port)))
    return original(...args)
  }) as typeof net.connect
  t.after(() => { mutable.connect = original })
  return dials
}

/**
 * Addresses no client may dial: this host through the unspecified address, broadcast, multicast.
 * None would leave this host if dialled (the unit test below has reserved space too).
 */
const BOGUS: PexEntry[] = [
  { host: '0.0.0.0', port: 6881, flags: 0 },
  { host: '255.255.255.255', port: 6881, flags: 0 },
  { host: '224.0.0.1', port: 6881, flags: 0 },
  { host: '::', port: 6881, flags: 0 },
  { host: 'ff02::1', port: 6881, flags: 0 },
  { host: '::ffff:0.0.0.0', port: 6881, flags: 0 }
]
/** A ut_pex message with this many added peers stays under the 16 KiB a message may have. */
const ADDED = 2000
const FLOODERS = 3
/** Per flooder, one every 50 ms: 20 a second, far closer than BEP11's one a minute. */
const MESSAGES = 40

test('PEX floods: thousands of peers many times a second, bogus addresses, peers that never answer; the peer the user names is still dialled and the download finishes', async (t) => {
  const s = await scene(t, 8 * MiB)
  const leecher = new Torrent({ dht: false, lsd: false, host: '127.0.0.1' })
  t.after(() => leecher.stop())
  await leecher.start()
  const torrent = encodeTorrentFile(s.meta)
  const archive = await leecher.lookup(torrent, { download: 'all' })
  const dead = await deadPorts(FLOODERS * 60)
  // Listeners that accept and never answer: each dial to one is held until the handshake times out.
  const silent = await Promise.all(Array.from({ length: MAX_PEX_PEERS }, () => rawServer(t, () => {})))
  const dials = recordDials(t)

  /**
   * Message k of flooder f: the bogus entries first, then addresses repeated to ADDED: the silent
   * listeners in first messages, never-used ones in later messages (which must be ignored).
   */
  const addressesOf = (f: number, k: number): string[] => k === 0
    ? silent.map((server) => server.address)
    : dead.slice(f * 60, f * 60 + 60).map((port) => `127.${f + 1}.${k}.1:${port}`)
  const messageOf = (f: number, k: number): Buffer => {
    const own = addressesOf(f, k).map((a) => ({ host: a.split(':')[0]!, port: Number(a.split(':')[1]), flags: 0 }))
    const added = [...BOGUS, ...Array.from({ length: ADDED - BOGUS.length }, (_, i) => own[i % own.length]!)]
    return encodePexMessage({ added, dropped: [] })
  }
  const flooders = await Promise.all(Array.from({ length: FLOODERS }, () => RawPeer.dial(leecher.port, { infoHash: s.meta.infoHash })))
  t.after(() => { for (const f of flooders) f.destroy() })
  for (const f of flooders) f.sendExtendedHandshake()
  await until(() => flooders.every((f) => f.extensions?.m.ut_pex !== undefined), 10_000, "the leecher's extended handshakes")

  let mostPeers = 0
  const flood = (async () => {
    for (let k = 0; k < MESSAGES; k++) {
      flooders.forEach((peer, f) => peer.send({ type: 'extended', id: peer.extensions!.m.ut_pex!, payload: messageOf(f, k) }))
      mostPeers = Math.max(mostPeers, archive.peers.length)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })()
  // The user names the honest seeder while the silent listeners hold the dials the flood began.
  const firsts = new Set(flooders.flatMap((_, f) => addressesOf(f, 0)))
  await until(() => dials.some((d) => firsts.has(d)), 10_000, 'a first PEX message being taken')
  await leecher.lookup(torrent, { peers: [s.seederAddress] })
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  await flood
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(await fs.readFile(s.file)))

  for (const entry of BOGUS) assert.ok(!dials.includes(formatAddress(entry.host, entry.port)), `dialled ${entry.host}`)
  // Peers others tell of fill at most 40 of maxPeers' 50 (the flooders count too); 10 are the user's.
  const taken = new Set(dials.filter((d) => firsts.has(d))).size
  assert.ok(taken > 0 && taken <= 40 - FLOODERS, `${taken} PEX peers dialled`)
  assert.ok(dials.includes(s.seederAddress), 'the seeder the user named was never dialled')
  for (let f = 0; f < FLOODERS; f++) {
    for (let k = 1; k < MESSAGES; k++) {
      const later = new Set(addressesOf(f, k))
      assert.ok(!dials.some((d) => later.has(d)), `flooder ${f}: message ${k}, sent 50 ms after the one before, was acted on`)
    }
  }
  assert.ok(mostPeers <= 50, `${mostPeers} peers at once`)
  // Ignored, not punished: a flood is cheap to drop, and the peer may still have pieces to give.
  assert.ok(flooders.every((f) => !f.closed))
})

interface FakePeer extends PexPeer { address: string }

function fakePeer (ip: string): FakePeer {
  return { address: `${ip}:6881`, outgoing: true, isSeed: false, wire: { remoteAddress: ip, peerExtensions: null, sendExtended: () => true } }
}

test('PEX: loopback peers are dialled only when a peer on this host names them; bogus addresses never', () => {
  const entries: PexEntry[] = [
    ...BOGUS,
    { host: '240.0.0.1', port: 6881, flags: 0 },
    { host: '0.1.2.3', port: 6881, flags: 0 },
    { host: '127.0.0.1', port: 22, flags: 0 },
    { host: '::1', port: 631, flags: 0 },
    { host: '192.0.2.9', port: 0, flags: 0 },
    { host: '198.51.100.1', port: 6881, flags: 0 },
    { host: '2001:db8::1', port: 6881, flags: 0 }
  ]
  const dialled = (from: string): string[] => {
    const out: string[] = []
    const pex = new PeerExchange<FakePeer>({ connect: (address) => out.push(address), isSeed: () => false })
    const peer = fakePeer(from)
    pex.add(peer)
    pex.onMessage(peer, encodePexMessage({ added: entries, dropped: [] }))
    pex.close()
    return out
  }
  assert.deepEqual(dialled('203.0.113.5'), ['198.51.100.1:6881', '[2001:db8::1]:6881'])
  assert.deepEqual(dialled('127.0.0.1'), ['127.0.0.1:22', '198.51.100.1:6881', '[::1]:631', '[2001:db8::1]:6881'])
})

test('PEX: of 2000 added peers 50 are dialled, and a second message within the minute is not read', () => {
  const out: string[] = []
  const pex = new PeerExchange<FakePeer>({ connect: (address) => out.push(address), isSeed: () => false })
  const peer = fakePeer('203.0.113.5')
  pex.add(peer)
  const message = (n: number): Buffer => encodePexMessage({
    added: Array.from({ length: ADDED }, (_, i) => ({ host: `198.51.${n}.${i % 250 + 1}`, port: 1000 + i, flags: 0 })),
    dropped: []
  })
  pex.onMessage(peer, message(1))
  pex.onMessage(peer, message(2))
  pex.close()
  assert.equal(out.length, MAX_PEX_PEERS)
  assert.ok(out.every((a) => a.startsWith('198.51.1.')))
})
