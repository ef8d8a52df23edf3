import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { MAIN } from '../cli/child.js'
import { fileURLToPath } from 'node:url'
import { netLab, NETLAB_MISSING, type NetLab } from '../helpers/netlab.js'
import { startJsonChild } from '../helpers/json-child.js'
import { labBootstrapNode } from '../helpers/lab-dht.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import type { TestContext } from 'node:test'

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers')
const clientChild = path.join(helpers, 'lab-client-child.js')
const probe = path.join(helpers, 'lab-probe.js')
/** Long enough for a SYN and its answer on a veth (microseconds), short enough to keep the test fast. */
const DROP_WAIT_MS = 1500
const STEP_MS = 20_000
const SIZE = 4 * 1024 * 1024 + 5

interface Mapped { nat: 'map' | 'fail', protocol: string, internalPort?: number, externalPort?: number, externalAddress?: string, code?: string }
interface Seeding { infoHash: string, port: number, advertisedPort: number }

/** A DHT node on the public segment that the lab's clients join through; its "host:port". */
async function bootstrapNode (t: TestContext, lab: NetLab): Promise<string> {
  return await labBootstrapNode(t, lab, STEP_MS)
}

test('NAT lab: a seeder at home behind a router with miniupnpd maps its ports; a leecher on the public segment finds it by the DHT and connects in through the mapping', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const bootstrap = await bootstrapNode(t, lab)
  const home = await lab.home('home', { miniupnpd: true })
  const leecherHost = await lab.publicHost('leecher')
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, SIZE)

  const seeder = startJsonChild(t, 'seeder at home', process.execPath, [clientChild, 'seed', file, bootstrap], { netns: home.host.ns })
  // Two mapping outcomes (TCP; UDP on the same port, which uTP and the DHT share) and the
  // seeding line, in whatever order they come.
  const lines: Array<Mapped | Seeding> = []
  for (let i = 0; i < 3; i++) lines.push(await seeder.next<Mapped | Seeding>('port mappings and seeding', STEP_MS))
  const outcomes = lines.filter((l): l is Mapped => 'nat' in l)
  const seeding = lines.find((l): l is Seeding => 'infoHash' in l)
  assert.ok(seeding !== undefined && outcomes.length === 2, `expected two mapping outcomes and seeding: ${JSON.stringify(lines)}`)
  for (const o of outcomes) assert.equal(o.nat, 'map', `mapping failed: ${JSON.stringify(o)}\n${home.miniupnpdLog()}`)
  const tcp = outcomes.find((o) => o.protocol === 'tcp')
  assert.ok(outcomes.some((o) => o.protocol === 'udp' && o.internalPort === seeding.port), 'the uTP port (UDP, the TCP port\'s number) is mapped too')
  assert.ok(!outcomes.some((o) => o.protocol === 'udp' && o.internalPort !== seeding.port), 'the DHT shares uTP\'s UDP port: no mapping of its own')
  assert.deepEqual([tcp?.internalPort, tcp?.externalAddress], [seeding.port, home.router.address])
  assert.equal(seeding.advertisedPort, tcp?.externalPort, 'the DHT announces the mapped port')
  assert.equal((await home.forwards()).length, 2, 'miniupnpd forwards the TCP port and the UDP one (uTP and DHT)')
  assert.equal(await home.mappedIn(), 0)

  const leecher = startJsonChild(t, 'leecher on the public segment', process.execPath, [clientChild, 'get', seeding.infoHash, bootstrap], { netns: leecherHost.ns })
  const first = await leecher.next<{ firstByteMs: number, peer: string | null }>('first piece', STEP_MS)
  const done = await leecher.next<{ doneMs: number, bytes: number, peers: string[] }>('download', STEP_MS)
  assert.ok(done.bytes >= SIZE, `downloaded ${done.bytes} of ${SIZE} bytes`)
  const mapped = `${home.router.address}:${seeding.advertisedPort}`
  // The seeder may learn of the leecher from its own DHT lookups and dial it first; the duplicate
  // rule then keeps the seeder's connection, which is not through the mapping: prove the mapping
  // with a connection of our own when the download did not use it.
  assert.ok(done.peers.length >= 1 && done.peers.every((p) => p === mapped || p.includes(home.router.address)), `the one peer is the seeder, behind the router: ${JSON.stringify(done.peers)}`)
  if (!done.peers.includes(mapped)) {
    const probeIn = startJsonChild(t, 'inbound probe', process.execPath, [probe, 'connect', home.router.address, String(seeding.advertisedPort), String(STEP_MS)], { netns: leecherHost.ns })
    assert.ok('connected' in await probeIn.next<object>('probe result', 2 * STEP_MS), 'a connection to the mapped port reaches the seeder')
  }
  assert.ok(await home.mappedIn() >= 1, 'the router counted the connection coming in through the mapping (DNAT)')
  t.diagnostic(`time to first byte through the mapping: ${first.firstByteMs} ms (lookup() to the first verified piece); all ${SIZE} bytes: ${done.doneMs} ms`)
})

test('NAT lab: behind a router without miniupnpd the seeder reports that mapping failed, and an inbound connection to its port is dropped', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const bootstrap = await bootstrapNode(t, lab)
  const home = await lab.home('home')
  const outside = await lab.publicHost('outside')
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, 64 * 1024)

  const seeder = startJsonChild(t, 'seeder at home', process.execPath, [clientChild, 'seed', file, bootstrap], { netns: home.host.ns })
  const lines: Array<Mapped | Seeding> = []
  for (let i = 0; i < 3; i++) lines.push(await seeder.next<Mapped | Seeding>('port mapping outcomes and seeding', STEP_MS))
  const outcomes = lines.filter((l): l is Mapped => 'nat' in l)
  const seeding = lines.find((l): l is Seeding => 'infoHash' in l)
  assert.ok(seeding !== undefined)
  assert.deepEqual(outcomes.map((o) => [o.nat, o.code]).sort(), [['fail', 'ETIMEDOUT'], ['fail', 'ETIMEDOUT']], 'the router does not answer NAT-PMP')
  assert.equal(seeding.advertisedPort, seeding.port, 'nothing mapped: the DHT announces the local port')

  const probeIn = startJsonChild(t, 'inbound probe', process.execPath, [probe, 'connect', home.router.address, String(seeding.port), String(DROP_WAIT_MS)], { netns: outside.ns })
  assert.deepEqual(await probeIn.next('probe result', DROP_WAIT_MS + STEP_MS), { error: 'ETIMEDOUT' }, 'the NAT drops it: no answer, not a reset')
  assert.equal(await home.mappedIn(), 0)
})

test('NAT lab: `trackerless seed --verbose --json` reports the router\'s mappings as portmap events, and a stop removes them from the router', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const bootstrap = await bootstrapNode(t, lab)
  const home = await lab.home('home', { miniupnpd: true })
  const file = path.join(await tmpDir(t), 'data.bin')
  await writeRandomFile(file, 64 * 1024)

  // Our own child, not a JsonChild: the CLI runs until a signal, which we send by its PID.
  const cli = spawn('ip', ['netns', 'exec', home.host.ns, process.execPath, MAIN, 'seed', file, '--bootstrap', bootstrap, '--no-lsd', '--json', '--verbose'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => cli.once('close', (code) => resolve(code)))
  t.after(() => { if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL') })
  let stderr = ''
  cli.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const events: Array<{ event: string, protocol?: string, port?: number, external?: string | null }> = []
  const lines = createInterface({ input: cli.stdout })
  const timer = setTimeout(() => cli.kill('SIGKILL'), STEP_MS)
  for await (const line of lines) {
    events.push(JSON.parse(line) as typeof events[number])
    if (events.filter((e) => e.event === 'portmap').length === 2 && events.some((e) => e.event === 'seeding')) break
  }
  clearTimeout(timer)
  const maps = events.filter((e) => e.event === 'portmap')
  assert.equal(maps.length, 2, `events: ${JSON.stringify(events)}; stderr: ${stderr}`)
  for (const m of maps) assert.equal(m.external, `${home.router.address}:${m.port}`, 'miniupnpd gives the port asked for')
  assert.deepEqual(maps.map((m) => m.protocol).sort(), ['tcp', 'udp'])
  assert.equal((await home.forwards()).length, 2, home.miniupnpdLog())

  cli.kill('SIGTERM')
  assert.equal(await exited, 0, stderr)
  assert.deepEqual(await home.forwards(), [], `the client deleted its mappings when it stopped; its stderr: ${stderr}\n${home.miniupnpdLog()}`)
})
