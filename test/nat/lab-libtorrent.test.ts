/**
 * The NAT lab's cases with libtorrent (python3-libtorrent 2.0) on one side: its own port mapping
 * (UPnP, NAT-PMP) against miniupnpd, ours against miniupnpd with libtorrent downloading, and BEP55
 * holepunching with libtorrent as the relay, the target or the initiator.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { netLab, NETLAB_MISSING, type LabHome, type NetLab } from '../helpers/netlab.js'
import { startJsonChild, type JsonChild } from '../helpers/json-child.js'
import { labBootstrapNode } from '../helpers/lab-dht.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { libtorrentMissing, startLtPeer } from '../interop/lt-peer.js'
import { parsePeerAddress } from '../../lib/metainfo/magnet.js'
import { unmapped } from '../../lib/discovery/address.js'

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers')
const clientChild = path.join(helpers, 'lab-client-child.js')
const holepunchChild = path.join(helpers, 'lab-holepunch-child.js')
/** The compiled file sits in <outDir>/test/nat/; the script stays in the source tree. */
const LT_NAT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_nat_peer.py')
const STEP_MS = 20_000
/** libtorrent's uTP dial of a peer behind a NAT times out (utp_connect_timeout, 3 s) before it asks a relay. */
const DOWNLOAD_MS = 40_000
/** Bounds every wait inside the libtorrent scripts, in seconds. */
const LT_LIMIT_S = 60
const SIZE = 2 * 1024 * 1024 + 5

interface Done { doneMs: number, bytes: number, peers: Array<{ address: string, transport: string, punchedMs: number | null }>, stats: { rendezvousSent: number, askedEarly: number, punched: string[] } }
interface LtDownload { bytes: number, seconds: number, dialled: string[] }

async function lab (t: TestContext): Promise<NetLab | null> {
  const missing = libtorrentMissing()
  if (missing !== false) { t.skip(missing); return null }
  const made = await netLab(t)
  if (made === null) t.skip(NETLAB_MISSING)
  return made
}

/** `lt_nat_peer.py <args>` in `ns`, listening on `listen`. */
function startLtNat (t: TestContext, ns: string, listen: string, args: readonly string[]): JsonChild {
  return startJsonChild(t, `lt_nat_peer.py ${args[0] ?? ''}`, '/usr/bin/python3', [LT_NAT, ...args], {
    netns: ns,
    env: { ...process.env, LT_PEER_LIMIT_S: String(LT_LIMIT_S), LT_PEER_LOG: '1', LT_PEER_LISTEN: listen }
  })
}

/** A random file of SIZE bytes and libtorrent's .torrent of it: { dir, file, torrent, infoHash, magnet }. */
async function ltTorrent (t: TestContext): Promise<{ dir: string, file: string, torrent: string, infoHash: string, magnet: string }> {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, SIZE)
  const torrent = path.join(dir, 'data.torrent')
  const created = await startLtPeer(t, ['create', file, torrent], LT_LIMIT_S).next<{ infoHash: string, magnet: string }>('torrent', STEP_MS)
  return { dir, file, torrent, ...created }
}

/** Our client in `ns` as holepunch-child `mode`, uTP only (see lab-holepunch-child). */
function ours (t: TestContext, label: string, ns: string, args: readonly string[]): JsonChild {
  return startJsonChild(t, label, process.execPath, [holepunchChild, ...args], { netns: ns, env: { ...process.env, LAB_UTP_ONLY: '1' } })
}

test('NAT lab with libtorrent: a libtorrent seeder behind a router with miniupnpd maps its port itself (UPnP / NAT-PMP); our leecher on the public segment finds it by the DHT and connects in through the mapping', async (t) => {
  const net = await lab(t)
  if (net === null) return
  const bootstrap = await labBootstrapNode(t, net, STEP_MS)
  const home = await net.home('home', { miniupnpd: true })
  const leecherHost = await net.publicHost('leecher')
  const data = await ltTorrent(t)

  const seeder = startLtNat(t, home.host.ns, '0.0.0.0:0', ['seed', data.torrent, data.dir, '--dht', bootstrap, '--map'])
  const { port } = await seeder.next<{ port: number }>('seeding', STEP_MS)
  // libtorrent maps TCP and UDP by both protocols; the TCP mapping is the one our leecher uses.
  for (;;) {
    const line = await seeder.next<{ portmap?: { protocol: string, externalPort: number }, portmapError?: string }>('a TCP port mapping', STEP_MS)
    if (line.portmap?.protocol === 'tcp') break
  }
  assert.ok((await home.forwards()).length >= 1, home.miniupnpdLog())

  const leecher = startJsonChild(t, 'our leecher on the public segment', process.execPath, [clientChild, 'get', data.infoHash, bootstrap], { netns: leecherHost.ns })
  const first = await leecher.next<{ firstByteMs: number }>('first piece', DOWNLOAD_MS)
  const done = await leecher.next<{ doneMs: number, bytes: number, peers: string[] }>('download', DOWNLOAD_MS)
  assert.ok(done.bytes >= SIZE, `downloaded ${done.bytes} of ${SIZE} bytes`)
  assert.equal(done.peers.length, 1, JSON.stringify(done.peers))
  // libtorrent asks the router for an external port of its choosing, and announces that one.
  const peer = parsePeerAddress(done.peers[0]!)
  assert.equal(unmapped(peer.host), home.router.address, `the one peer is libtorrent, at the router's address (listening on ${port} at home): ${done.peers[0]}`)
  assert.ok(await home.mappedIn() >= 1, 'the router counted the connection coming in through libtorrent\'s mapping')
  t.diagnostic(`time to first byte from libtorrent through its mapping (external port ${peer.port}): ${first.firstByteMs} ms after lookup(); all ${SIZE} bytes: ${done.doneMs} ms`)
})

test('NAT lab with libtorrent: our seeder behind a router with miniupnpd, a libtorrent leecher on the public segment finds it by the DHT and connects in through our mapping', async (t) => {
  const net = await lab(t)
  if (net === null) return
  const bootstrap = await labBootstrapNode(t, net, STEP_MS)
  const home = await net.home('home', { miniupnpd: true })
  const leecherHost = await net.publicHost('leecher')
  const dir = await tmpDir(t)
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, SIZE)

  const seeder = startJsonChild(t, 'our seeder at home', process.execPath, [clientChild, 'seed', file, bootstrap], { netns: home.host.ns })
  let seeding: { infoHash: string, advertisedPort: number } | undefined
  const outcomes: Array<{ nat: string, protocol: string }> = []
  while (seeding === undefined || !outcomes.some((o) => o.protocol === 'tcp')) {
    const line = await seeder.next<{ nat: string, protocol: string } | { infoHash: string, advertisedPort: number }>('port mappings and seeding', STEP_MS)
    if ('nat' in line) outcomes.push(line)
    else seeding = line
  }
  assert.ok(outcomes.every((o) => o.nat === 'map'), `${JSON.stringify(outcomes)}\n${home.miniupnpdLog()}`)

  const leecher = startLtPeer(t, ['download', `magnet:?xt=urn:btih:${seeding.infoHash}`, await tmpDir(t), '--dht', bootstrap], LT_LIMIT_S,
    { netns: leecherHost.ns, env: { LT_PEER_LISTEN: `${leecherHost.address}:0` } })
  const done = await leecher.next<LtDownload>('libtorrent\'s download', DOWNLOAD_MS)
  assert.equal(done.bytes, SIZE)
  assert.ok(done.dialled.includes(`${home.router.address}:${seeding.advertisedPort}`), `libtorrent dialled the router's mapped port: ${JSON.stringify(done.dialled)}`)
  assert.ok(await home.mappedIn() >= 1, 'the router counted the connection coming in through our mapping')
  t.diagnostic(`libtorrent through our mapping: ${Math.round(done.seconds * 1000)} ms from adding the magnet (DHT lookup and metadata included) to all ${SIZE} bytes`)
})

/**
 * Relay, seeder at `home` and leecher on the public segment, each as `roles` says (ours or
 * libtorrent); the seeder and leecher dial the relay. Resolves once the leecher reports its download.
 */
async function holepunchWith (t: TestContext, net: NetLab, home: LabHome, roles: { relay: 'ours' | 'lt', seeder: 'ours' | 'lt', leecher: 'ours' | 'lt' }): Promise<{ done: Done | LtDownload, seederPort: number }> {
  const relayHost = await net.publicHost('relay')
  const leecherHost = await net.publicHost('leecher')
  const data = await ltTorrent(t)

  // Our seeder makes its own torrent of the file (its own piece length): its infohash is the one.
  let seeder: JsonChild | null = null
  let infoHash = data.infoHash
  let seederPort = 0
  if (roles.seeder === 'ours') {
    seeder = ours(t, 'our seeder at home', home.host.ns, ['seed', data.file, 'unset'])
    ;({ infoHash, port: seederPort } = await seeder.next<{ infoHash: string, port: number }>('seeding', STEP_MS))
  }
  const magnet = `magnet:?xt=urn:btih:${infoHash}`
  let relay: JsonChild
  if (roles.relay === 'lt') {
    relay = startLtNat(t, relayHost.ns, `${relayHost.address}:0`, ['relay', magnet, await tmpDir(t), '--utp-only'])
  } else {
    relay = ours(t, 'our relay on the public segment', relayHost.ns, ['relay'])
  }
  const relayAddress = `${relayHost.address}:${(await relay.next<{ port: number }>('port', STEP_MS)).port}`
  if (roles.relay === 'ours') {
    relay.send(infoHash)
    await relay.next('joined', STEP_MS)
  }
  if (seeder !== null) {
    seeder.send(`dial ${relayAddress}`)
    await seeder.next('dialled the relay', STEP_MS)
  } else {
    seeder = startLtNat(t, home.host.ns, '0.0.0.0:0', ['seed', data.torrent, data.dir, '--connect', relayAddress, '--utp-only'])
    seederPort = (await seeder.next<{ port: number }>('seeding', STEP_MS)).port
  }
  const { connected } = await relay.next<{ connected: string | null }>('the seeder connected', STEP_MS)
  assert.equal(connected, `${home.router.address}:${seederPort}`, 'the relay sees the seeder at its router\'s address and listen port (uTP\'s socket)')

  if (roles.leecher === 'ours') {
    const leecher = ours(t, 'our leecher', leecherHost.ns, ['get', infoHash, relayAddress])
    await leecher.next('first piece', DOWNLOAD_MS).catch((err) => { throw new Error(`${String(err)}\nthe relay's stderr: ${relay.stderr()}\nthe seeder's: ${seeder.stderr()}`) })
    return { done: await leecher.next<Done>('download', DOWNLOAD_MS), seederPort }
  }
  const leecher = startLtPeer(t, ['download', magnet, await tmpDir(t), relayAddress, '--utp-only'], LT_LIMIT_S,
    { netns: leecherHost.ns, env: { LT_PEER_LISTEN: `${leecherHost.address}:0` } })
  return { done: await leecher.next<LtDownload>('libtorrent\'s download', DOWNLOAD_MS), seederPort }
}

/**
 * Our leecher downloaded from the seeder over a direct uTP connection to the seeder's router,
 * made by the holepunch: asked of the relay while the direct dial was pending, dialled on its connect.
 * `samePort`: the connection kept is at the seeder's listen port. libtorrent as the target dials
 * from its listen port too, but when our dial reached its router first, the router's conntrack
 * holds that port for our (dropped) attempt and MASQUERADE gives libtorrent's another; the
 * connection kept is then libtorrent's, from that port.
 */
function assertOursPunched (done: Done, home: LabHome, seederPort: number, samePort: boolean): Done['peers'][number] {
  assert.ok(done.bytes >= SIZE, `downloaded ${done.bytes} of ${SIZE} bytes`)
  const seeder = done.peers.find((p) => samePort ? p.address === `${home.router.address}:${seederPort}` : p.address.startsWith(`${home.router.address}:`))
  assert.ok(seeder !== undefined, `a connection to the seeder at its router's address (listen port ${seederPort}): ${JSON.stringify(done)}`)
  assert.equal(seeder.transport, 'utp')
  assert.ok(done.stats.askedEarly >= 1 && done.stats.punched.includes(`${home.router.address}:${seederPort}`), `the leecher asked the relay early and dialled on its connect: ${JSON.stringify(done)}`)
  return seeder
}

test('NAT lab with libtorrent: libtorrent as the BEP55 relay between our seeder behind a NAT and our public leecher (both connected to it over uTP)', async (t) => {
  const net = await lab(t)
  if (net === null) return
  const home = await net.home('home')
  const { done, seederPort } = await holepunchWith(t, net, home, { relay: 'lt', seeder: 'ours', leecher: 'ours' })
  assertOursPunched(done as Done, home, seederPort, true)
  t.diagnostic(`through libtorrent's relay: all ${SIZE} bytes ${(done as Done).doneMs} ms after lookup()`)
  assert.equal(await home.mappedIn(), 0)
})

test('NAT lab with libtorrent: a libtorrent seeder behind a NAT as the BEP55 target: our relay sends it connect, it dials our public leecher', async (t) => {
  const net = await lab(t)
  if (net === null) return
  const home = await net.home('home')
  const { done, seederPort } = await holepunchWith(t, net, home, { relay: 'ours', seeder: 'lt', leecher: 'ours' })
  const seeder = assertOursPunched(done as Done, home, seederPort, false)
  t.diagnostic(`from libtorrent behind a NAT: all ${SIZE} bytes ${(done as Done).doneMs} ms after lookup(), over ${seeder.address}`)
  assert.equal(await home.mappedIn(), 0)
})

test('NAT lab with libtorrent: a libtorrent leecher as the BEP55 initiator: its uTP dial of our seeder behind a NAT fails, it asks our relay, and downloads by the holepunch', async (t) => {
  const net = await lab(t)
  if (net === null) return
  const home = await net.home('home')
  const { done, seederPort } = await holepunchWith(t, net, home, { relay: 'ours', seeder: 'ours', leecher: 'lt' })
  const lt = done as LtDownload
  assert.equal(lt.bytes, SIZE, 'our relay has no pieces: every byte came from the seeder, which the NAT hides')
  assert.ok(lt.dialled.includes(`${home.router.address}:${seederPort}`), JSON.stringify(lt.dialled))
  assert.equal(await home.mappedIn(), 0)
  t.diagnostic(`libtorrent's download through the holepunch: ${Math.round(lt.seconds * 1000)} ms from adding the magnet`)
})
