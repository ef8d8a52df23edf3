import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { netLab, NETLAB_MISSING, type LabHost, type LabHome, type NetLab } from '../helpers/netlab.js'
import { startJsonChild } from '../helpers/json-child.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers')
const child = path.join(helpers, 'lab-holepunch-child.js')
const probe = path.join(helpers, 'lab-probe.js')
/** Long enough for a SYN and its answer on a veth (microseconds), short enough to keep the test fast. */
const DROP_WAIT_MS = 1500
const STEP_MS = 20_000
/** Bounds the wait for the download: a holepunch that fell back to the direct dial would take its 5 s timeout (CONNECT_TIMEOUT) and more. */
const DOWNLOAD_MS = 40_000
const SIZE = 2 * 1024 * 1024 + 5

interface Peer { address: string, transport: string, punchedMs: number | null }
interface Done { doneMs: number, bytes: number, peers: Peer[], stats: { rendezvousSent: number, askedEarly: number } }

/**
 * A seeder at `home`, a relay on the public segment that it dials, and a leecher at `leecherAt`
 * that dials the relay and learns the seeder from the relay's PEX. Resolves with what the
 * leecher reports once done.
 */
async function holepunchDownload (t: TestContext, lab: NetLab, home: LabHome, leecherAt: LabHost): Promise<{ first: number, done: Done, seederPort: number }> {
  const relayHost = await lab.publicHost('relay')
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, SIZE)

  const relay = startJsonChild(t, 'relay on the public segment', process.execPath, [child, 'relay'], { netns: relayHost.ns })
  const { port: relayPort } = await relay.next<{ port: number }>('port', STEP_MS)
  const relayAddress = `${relayHost.address}:${relayPort}`
  const seeder = startJsonChild(t, 'seeder at home', process.execPath, [child, 'seed', file, relayAddress], { netns: home.host.ns })
  const seeding = await seeder.next<{ infoHash: string, port: number }>('seeding', STEP_MS)
  relay.send(seeding.infoHash)
  await relay.next('joined', STEP_MS)
  seeder.send('dial')
  await seeder.next('dialled the relay', STEP_MS)
  // The relay tells a new peer of the others right after its extended handshake, and then only a
  // minute later: the leecher starts once the relay knows where the seeder listens.
  const { connected } = await relay.next<{ connected: string | null }>('the seeder connected', STEP_MS)
  assert.equal(connected, `${home.router.address}:${seeding.port}`, 'the relay sees the seeder at its router\'s address and listen port')

  const leecher = startJsonChild(t, 'leecher', process.execPath, [child, 'get', seeding.infoHash, relayAddress], { netns: leecherAt.ns })
  const { firstByteMs } = await leecher.next<{ firstByteMs: number }>('first piece', DOWNLOAD_MS)
  const done = await leecher.next<Done>('download', DOWNLOAD_MS)
  return { first: firstByteMs, done, seederPort: seeding.port }
}

function assertPunched (done: Done, router: LabHost, seederPort: number): Peer {
  assert.ok(done.bytes >= SIZE, `downloaded ${done.bytes} of ${SIZE} bytes`)
  const seeder = done.peers.find((p) => p.address === `${router.address}:${seederPort}`)
  assert.ok(seeder !== undefined, `a connection to the seeder at its router's address and port: ${JSON.stringify(done.peers)}`)
  assert.equal(seeder.transport, 'utp', 'holepunched connections are uTP')
  assert.ok(seeder.punchedMs !== null, `the leecher dialled it because the relay's connect told it to: ${JSON.stringify(done)}`)
  assert.ok(done.stats.rendezvousSent >= 1, 'the leecher asked the relay')
  // The relay's PEX flags the seeder as speaking ut_holepunch and not as dialled by the relay: the
  // leecher asks the relay PUNCH_AFTER_MS into its direct dial, not after the dial's timeout.
  assert.ok(done.stats.askedEarly >= 1, `the leecher asked the relay while its direct dial was pending: ${JSON.stringify(done.stats)}`)
  return seeder
}

test('NAT lab: a seeder behind a router without port mapping is unreachable, yet a public leecher downloads from it by a BEP55 holepunch through a public relay', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const home = await lab.home('home')
  const leecherHost = await lab.publicHost('leecher')
  const started = Date.now()
  const { first, done, seederPort } = await holepunchDownload(t, lab, home, leecherHost)
  const seeder = assertPunched(done, home.router, seederPort)

  // The NAT really blocks: a new inbound connection to the seeder's port is dropped unanswered.
  const probeIn = startJsonChild(t, 'inbound probe', process.execPath, [probe, 'connect', home.router.address, String(seederPort), String(DROP_WAIT_MS)], { netns: leecherHost.ns })
  assert.deepEqual(await probeIn.next('probe result', DROP_WAIT_MS + STEP_MS), { error: 'ETIMEDOUT' }, 'the NAT drops it: no answer, not a reset')
  assert.equal(await home.mappedIn(), 0, 'nothing came in through a port mapping')
  t.diagnostic(`time to first byte through a holepunch: ${first} ms after lookup() (${seeder.punchedMs} ms to the relay's connect, asked while the direct dial was pending); all ${SIZE} bytes: ${done.doneMs} ms; test ${Date.now() - started} ms`)
})

test('NAT lab: two peers behind different NATs without port mapping reach each other directly by a BEP55 holepunch through a public relay', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const home = await lab.home('home')
  const away = await lab.home('away')
  const { first, done, seederPort } = await holepunchDownload(t, lab, home, away.host)
  const seeder = assertPunched(done, home.router, seederPort)
  assert.equal(await home.mappedIn(), 0)
  assert.equal(await away.mappedIn(), 0)
  t.diagnostic(`time to first byte through a holepunch, NAT to NAT: ${first} ms after lookup() (${seeder.punchedMs} ms to the relay's connect); all ${SIZE} bytes: ${done.doneMs} ms`)
})
