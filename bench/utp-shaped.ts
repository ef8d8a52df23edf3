/**
 * uTP on a shaped link (issue 21): one seeder to one downloader, each a host of its own in the NAT
 * lab, the link between them shaped with `tc tbf` to 50 Mbit/s. A report, not a test.
 * The shaper sits on the bridge's side of the downloader's link (its downlink), a hop of its own as
 * a home router is: shaped on the seeder's own interface instead (BENCH_SHAPE=up), Linux's TCP
 * Small Queues keep each TCP socket's share of that queue to about a millisecond of data, while
 * UDP fills it, and any TCP flow loses to any UDP one (bench/README.md has the figures).
 *   1. alone: the share of the link each transfer uses (payload over the link rate), for our uTP
 *      and TCP and libtorrent's, one after the other;
 *   2. against a plain TCP bulk flow from the seeder's host to the downloader's on the same link
 *      (bench/shaped-flow.ts): the flow's rate while the transfer runs over its rate alone, just
 *      before. LEDBAT (target 60 ms of queueing delay, ledbat.ts) should leave the flow ≥ 80 %.
 * Usage (root): node dist/bench/utp-shaped.js; settings in BENCH_* variables, see bench/README.md.
 */
import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KILL_GRACE_MS, killChildren, type Child } from './child.js'
import { LT_PEER, prepareBench } from './data.js'
import { fixed, formatLoad, loadMeter, sleep, startIn, table, tcRate, type Load } from './shaped-lab.js'
import { withLab, NETLAB_MISSING, type LabHost, type NetLab } from '../test/helpers/netlab.js'

const here = dirname(fileURLToPath(import.meta.url))
const tlPeer = join(here, 'tl-peer.js')
const flow = join(here, 'shaped-flow.js')
const CLIENTS = ['tl', 'lt'] as const
type ClientKind = typeof CLIENTS[number]
const TRANSPORTS = ['utp', 'tcp'] as const
type Transport = typeof TRANSPORTS[number]
/** The flow alone is measured over this long, and the transfer gets this long to ramp up before its window. */
const SETTLE_S = 4

interface Config {
  readonly megabytes: number
  readonly rate: number
  readonly clients: readonly ClientKind[]
  readonly transports: readonly Transport[]
  readonly competeSeconds: number
  readonly burst: string
  readonly latency: string
  readonly shape: 'up' | 'down'
  readonly timeoutMs: number
  readonly python: string
}

interface Alone { readonly seconds: number, readonly payloadShare: number, readonly wireShare: number, readonly cpuSeconds: number, readonly load: Load }
interface Compete {
  /** The flow's payload rate in the window over its rate alone. */
  readonly flowKept: number
  /** Bytes on the link in the window (flow and transfer) over what the rate allows. */
  readonly linkUsed: number
  /** The transfer's share of the link in the window: the link's bytes less the flow's, wire bytes estimated from its alone ratio. */
  readonly transferShare: number
  /** The transfer finished inside the window (the window then includes time without it). */
  readonly finishedEarly: boolean
  readonly load: Load
}
type Outcome<T> = ({ readonly ok: true } & T) | { readonly ok: false, readonly error: string }

function readConfig (env: NodeJS.ProcessEnv): Config {
  const num = (name: string, fallback: number): number => {
    const n = Number(env[name] ?? fallback)
    if (!(n > 0)) throw new Error(`${name} must be a number above 0, got "${env[name]}"`)
    return n
  }
  const list = <T extends string>(name: string, all: readonly T[]): T[] => (env[name] ?? all.join(',')).split(',').map((text) => {
    const found = all.find((a) => a === text.trim())
    if (found === undefined) throw new Error(`${name} entry "${text}" is not one of ${all.join(', ')}`)
    return found
  })
  return {
    // Long enough that a transfer holding half the link is still running at the end of the window.
    megabytes: Math.round(num('BENCH_MB', 128)),
    rate: num('BENCH_RATE', 50),
    clients: list('BENCH_CLIENTS', CLIENTS),
    transports: list('BENCH_TRANSPORTS', TRANSPORTS),
    competeSeconds: num('BENCH_COMPETE_S', 15),
    burst: env.BENCH_TBF_BURST ?? '64kb',
    latency: env.BENCH_TBF_LATENCY ?? '100ms',
    shape: env.BENCH_SHAPE === 'up' ? 'up' : 'down',
    timeoutMs: num('BENCH_TIMEOUT_S', 180) * 1000,
    python: env.BENCH_PYTHON ?? '/usr/bin/python3'
  }
}

function startPeer (kind: ClientKind, transport: Transport, role: 'seed' | 'download', host: LabHost, config: Config, args: string[]): Child {
  const options = { timeoutMs: config.timeoutMs, stdin: true }
  if (kind === 'lt') {
    return startIn(host, { LT_PEER_LISTEN: `${host.address}:0` }, config.python, [LT_PEER, role, ...args, ...(transport === 'utp' ? ['--utp-only'] : [])], options)
  }
  return startIn(host, { BENCH_HOST: host.address, BENCH_TRANSPORT: transport }, process.execPath, [tlPeer, role, ...args], options)
}

/** A lab with the seeder's host (uplink shaped) and the downloader's, and a seeder running. */
async function withSeeder<T> (kind: ClientKind, transport: Transport, config: Config, torrent: string, seedDir: string,
  fn: (lab: NetLab, a: LabHost, b: LabHost, seedAddress: string) => Promise<T>): Promise<Outcome<T>> {
  try {
    const result = await withLab(async (lab) => {
      const shaping = { rate: tcRate(config.rate), burst: config.burst, latency: config.latency }
      const a = await lab.publicHost('a', config.shape === 'up' ? { up: shaping } : {})
      const b = await lab.publicHost('b', config.shape === 'down' ? { down: shaping } : {})
      shaped = config.shape === 'up' ? [a, 'up'] : [b, 'down']
      const seeder = startPeer(kind, transport, 'seed', a, config, [torrent, seedDir])
      try {
        const { port } = await seeder.nextLine<{ port: number }>(Date.now() + config.timeoutMs, `${kind} seeder checking its data`)
        return await fn(lab, a, b, `${a.address}:${port}`)
      } finally {
        seeder.closeStdin()
        await seeder.stop(KILL_GRACE_MS)
      }
    })
    if (result === null) throw new Error(NETLAB_MISSING)
    return { ok: true, ...result }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

/** The shaped host and direction of the lab in use. */
let shaped: [LabHost, 'up' | 'down'] | null = null

/** Bytes through the link's shaper so far. */
async function sent (lab: NetLab): Promise<number> {
  if (shaped === null) throw new Error('no shaped link')
  return (await lab.shaper(...shaped))?.sentBytes ?? 0
}

async function alone (kind: ClientKind, transport: Transport, config: Config, torrent: string, seedDir: string, dir: string): Promise<Outcome<Alone>> {
  return await withSeeder(kind, transport, config, torrent, seedDir, async (lab, _a, b, seed) => {
    const meter = loadMeter()
    const before = await sent(lab)
    const downloader = startPeer(kind, transport, 'download', b, config, [torrent, dir, seed])
    try {
      // The downloader's own time, from adding the torrent (its process start-up left out).
      const { bytes, seconds, cpuSeconds } = await downloader.nextLine<{ bytes: number, seconds: number, cpuSeconds: number }>(Date.now() + config.timeoutMs, `${kind} ${transport} download`)
      const wire = await sent(lab) - before
      const link = config.rate * 1e6 / 8
      return { seconds, payloadShare: bytes / seconds / link, wireShare: wire / seconds / link, cpuSeconds, load: meter.read() }
    } finally {
      await downloader.stop(KILL_GRACE_MS)
    }
  })
}

/** The flow's received bytes and the link's sent bytes, read together. */
async function readBoth (lab: NetLab, sink: Child): Promise<{ at: number, flow: number, link: number }> {
  sink.send('?')
  const [{ bytes }, link] = await Promise.all([sink.nextLine<{ bytes: number }>(Date.now() + 5000, 'flow counter'), sent(lab)])
  return { at: performance.now() / 1000, flow: bytes, link }
}

/**
 * 'flow-first': the flow runs, then the transfer joins it (LEDBAT's base delay then includes the
 * queue the flow keeps standing). 'transfer-first': the flow is measured alone and stopped, the
 * transfer starts on the idle link, and the flow starts again beside it, as when a user starts an
 * upload while the client seeds.
 */
type Order = 'flow-first' | 'transfer-first'

async function compete (kind: ClientKind, transport: Transport, order: Order, config: Config, torrent: string, seedDir: string, dir: string): Promise<Outcome<Compete>> {
  return await withSeeder(kind, transport, config, torrent, seedDir, async (lab, a, b, seed) => {
    const options = { timeoutMs: config.timeoutMs, stdin: true }
    const sink = startIn(b, {}, process.execPath, [flow, 'sink', b.address], options)
    const children: Child[] = [sink]
    const startFlow = async (port: number): Promise<Child> => {
      const sender = startIn(a, {}, process.execPath, [flow, 'send', b.address, String(port)], options)
      children.push(sender)
      await sender.nextLine(Date.now() + 10_000, 'flow sender')
      return sender
    }
    try {
      const { port } = await sink.nextLine<{ port: number }>(Date.now() + 10_000, 'flow sink')
      const first = await startFlow(port)
      await sleep(SETTLE_S * 500)
      const alone0 = await readBoth(lab, sink)
      await sleep(SETTLE_S * 1000)
      const alone1 = await readBoth(lab, sink)
      const flowAlone = (alone1.flow - alone0.flow) / (alone1.at - alone0.at)
      const wirePerPayload = (alone1.link - alone0.link) / (alone1.flow - alone0.flow)
      if (order === 'transfer-first') {
        first.closeStdin()
        await first.stop(KILL_GRACE_MS)
        // The queue drains in well under a second at these rates.
        await sleep(1000)
      }
      const meter = loadMeter()
      const downloader = startPeer(kind, transport, 'download', b, config, [torrent, dir, seed])
      children.push(downloader)
      let finished = false
      downloader.nextLine(Date.now() + config.timeoutMs, 'download').then(() => { finished = true }, () => undefined)
      await sleep(SETTLE_S * 1000)
      if (order === 'transfer-first') {
        await startFlow(port)
        // TCP's slow start.
        await sleep(2000)
      }
      const from = await readBoth(lab, sink)
      const finishedBefore = finished
      await sleep(config.competeSeconds * 1000)
      const to = await readBoth(lab, sink)
      const seconds = to.at - from.at
      const link = config.rate * 1e6 / 8
      const flowRate = (to.flow - from.flow) / seconds
      const linkRate = (to.link - from.link) / seconds
      return {
        flowKept: flowRate / flowAlone,
        linkUsed: linkRate / link,
        transferShare: (linkRate - flowRate * wirePerPayload) / link,
        finishedEarly: finishedBefore || finished,
        load: meter.read()
      }
    } finally {
      for (const child of children) child.closeStdin()
      await Promise.all(children.map((c) => c.stop(KILL_GRACE_MS)))
    }
  })
}

async function main (): Promise<number> {
  const config = readConfig(process.env)
  if (process.argv.length > 2) throw new Error('no arguments: settings come from BENCH_* variables (see bench/README.md)')
  const { workDir, seedDir, torrent, created } = await prepareBench('trackerless-utp-shaped-', config.megabytes, config.python, config.timeoutMs)
  const log = (text: string): void => { process.stdout.write(text + '\n') }
  log(`one seeder to one downloader, ${config.megabytes} MiB, the ${config.shape === 'up' ? 'seeder\'s uplink' : 'downloader\'s downlink'} shaped to ${config.rate} Mbit/s ` +
    `(tbf burst ${config.burst} latency ${config.latency}); libtorrent ${created.libtorrentVersion}, node ${process.version}`)
  const pairs = config.clients.flatMap((kind) => config.transports.map((transport) => [kind, transport] as const))
  const dir = join(workDir, 'download')
  const fresh = async (): Promise<string> => { await rm(dir, { recursive: true, force: true }); mkdirSync(dir); return dir }
  let ok = true

  const aloneRows: string[][] = []
  for (const [kind, transport] of pairs) {
    const r = await alone(kind, transport, config, torrent, seedDir, await fresh())
    ok &&= r.ok
    aloneRows.push(r.ok
      ? [`${kind} ${transport}`, fixed(r.seconds, 1), fixed(r.payloadShare * 100, 1), fixed(r.wireShare * 100, 1), fixed(r.cpuSeconds, 1), formatLoad(r.load)]
      : [`${kind} ${transport}`, 'FAILED', '-', '-', '-', r.error])
    log(`alone, ${kind} ${transport}: ${r.ok ? `${r.seconds.toFixed(1)} s` : r.error}`)
  }
  log('\n' + table(['alone', 'seconds', 'payload % of link', 'wire % of link', 'downloader CPU-s', 'machine'], aloneRows) + '\n')

  const competeRows: string[][] = []
  for (const order of ['transfer-first', 'flow-first'] as const) {
    for (const [kind, transport] of pairs) {
      const r = await compete(kind, transport, order, config, torrent, seedDir, await fresh())
      ok &&= r.ok
      const name = `${kind} ${transport}, ${order}`
      competeRows.push(r.ok
        ? [name, fixed(r.flowKept * 100, 0), fixed(r.transferShare * 100, 0), fixed(r.linkUsed * 100, 0), r.finishedEarly ? 'yes' : 'no', formatLoad(r.load)]
        : [name, 'FAILED', '-', '-', '-', r.error])
      log(`against a TCP flow, ${name}: ${r.ok ? `the flow kept ${(r.flowKept * 100).toFixed(0)} %` : r.error}`)
    }
  }
  log(`\nagainst a TCP flow (window ${config.competeSeconds} s, once both have run for ${SETTLE_S} s or more):\n` +
    table(['transfer', 'flow kept %', 'transfer % of link', 'link used %', 'done in window', 'machine'], competeRows))
  return ok ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
  killChildren()
})
