/**
 * Shaped swarm benchmark (issue 25): one seeder and eight leechers, each a host of its own on the
 * NAT lab's public segment with `tc tbf` on its links (seeder 20 Mbit/s up; leechers 10 Mbit/s up,
 * 50 Mbit/s down), one 64 MiB torrent, every leecher told every other peer's address (no DHT, LSD
 * or PEX). Measures the time until the last leecher has every piece, for trackerless and for
 * libtorrent in the same topology in the same run, against the Kumar–Ross lower bound of the
 * same rates, T = max(F/u_s, F/d_min, N·F/(u_s + Σu_i)). A report, not a test: the exit code says
 * only whether every swarm completed with identical files. Usage (root; see bench/README.md):
 *   node dist/bench/shaped-swarm.js            the base variant
 *   BENCH_VARIANTS=all node dist/bench/shaped-swarm.js
 * Variants: base; hetero (uplinks spread evenly over 2–20 Mbit/s); join (leechers start one by one
 * over BENCH_JOIN_S seconds); leave (the seeder stops once the first leecher is done, so one whole
 * copy is out, or with BENCH_LEAVE_COPY once its uplink carried that many copies); utp (uTP only, both clients).
 */
import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { KILL_GRACE_MS, killChildren, type Child } from './child.js'
import { DATA_NAME, LT_PEER, findDownloaded, prepareBench, sameContent } from './data.js'
import { MIB, fixed, formatLoad, loadMeter, sampleUplinks, sentBetween, sleep, startIn, table, tcRate, type Load, type Sample } from './shaped-lab.js'
import { withLab, NETLAB_MISSING, type LabHost, type NetLab, type Shaping } from '../test/helpers/netlab.js'

const CLIENTS = ['tl', 'lt'] as const
type ClientKind = typeof CLIENTS[number]
const VARIANTS = ['base', 'hetero', 'join', 'leave', 'utp'] as const
type Variant = typeof VARIANTS[number]
const SAMPLE_MS = 500

interface Config {
  readonly megabytes: number
  readonly pieceBytes: number
  readonly leechers: number
  readonly seedUp: number
  readonly up: number
  readonly down: number
  readonly clients: readonly ClientKind[]
  readonly variants: readonly Variant[]
  readonly joinSeconds: number
  /** BENCH_LEAVE_COPY: the seeder leaves after this many copies on its uplink; unset, once the first leecher is done. */
  readonly leaveCopy: number | undefined
  /** Both seeders super-seed (BEP16): BENCH_SUPER_SEED=1. */
  readonly superSeed: boolean
  readonly burst: string
  readonly latency: string
  /** BENCH_NOTSENT_LOWAT: every host's net.ipv4.tcp_notsent_lowat (libtorrent sets TCP_NOTSENT_LOWAT per socket itself; Node cannot). */
  readonly notsentLowat: number | undefined
  /** Leecher uplink use is shown in windows of this many seconds (the trace of slot use over time). */
  readonly traceSeconds: number
  readonly timeoutMs: number
  readonly python: string
}

/** One variant's topology and schedule. Rates in Mbit/s, times in seconds from the start. */
interface Plan {
  readonly variant: Variant
  readonly ups: readonly number[]
  readonly joinAt: readonly number[]
  readonly leave: boolean
  readonly transport: 'tcp' | 'utp'
}

interface Report { readonly bytes: number }

type SwarmResult = { readonly client: ClientKind, readonly load: Load } & (
  | {
    readonly ok: true
    readonly done: readonly number[]
    readonly lastDone: number
    readonly samples: readonly Sample[]
    readonly seederLeftAt: number | null
  }
  | { readonly ok: false, readonly error: string })

const here = dirname(fileURLToPath(import.meta.url))
const ltSwarmPeer = resolve(here, '..', '..', 'bench', 'lt-swarm-peer.py')
const tlPeer = join(here, 'tl-peer.js')

function positive (env: NodeJS.ProcessEnv, name: string, fallback: number, whole = false): number {
  const text = env[name]
  const n = Number(text ?? fallback)
  if (!(n > 0) || (whole && !Number.isInteger(n))) throw new Error(`${name} must be a ${whole ? 'whole ' : ''}number above 0, got "${text}"`)
  return n
}

function readConfig (argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  if (argv.length > 0) throw new Error(`unknown argument "${argv[0]}": settings come from BENCH_* variables (see bench/README.md)`)
  const pick = <T extends string>(name: string, all: readonly T[], fallback: string): T[] => {
    const text = env[name] ?? fallback
    if (text === 'all') return [...all]
    return text.split(',').map((entry) => {
      const found = all.find((a) => a === entry.trim())
      if (found === undefined) throw new Error(`${name} entry "${entry}" is not one of ${all.join(', ')} (or "all")`)
      return found
    })
  }
  return {
    megabytes: positive(env, 'BENCH_MB', 64, true),
    pieceBytes: positive(env, 'BENCH_PIECE_KIB', 256, true) * 1024,
    leechers: positive(env, 'BENCH_LEECHERS', 8, true),
    seedUp: positive(env, 'BENCH_SEED_UP', 20),
    up: positive(env, 'BENCH_UP', 10),
    down: positive(env, 'BENCH_DOWN', 50),
    clients: pick('BENCH_CLIENTS', CLIENTS, CLIENTS.join(',')),
    variants: pick('BENCH_VARIANTS', VARIANTS, 'base'),
    joinSeconds: positive(env, 'BENCH_JOIN_S', 60),
    leaveCopy: env.BENCH_LEAVE_COPY === undefined ? undefined : positive(env, 'BENCH_LEAVE_COPY', 1.05),
    superSeed: env.BENCH_SUPER_SEED === '1',
    burst: env.BENCH_TBF_BURST ?? '64kb',
    latency: env.BENCH_TBF_LATENCY ?? '100ms',
    notsentLowat: env.BENCH_NOTSENT_LOWAT === undefined ? undefined : positive(env, 'BENCH_NOTSENT_LOWAT', 16384, true),
    traceSeconds: positive(env, 'BENCH_TRACE_S', 5),
    timeoutMs: positive(env, 'BENCH_TIMEOUT_S', 240) * 1000,
    python: env.BENCH_PYTHON ?? '/usr/bin/python3'
  }
}

function plan (variant: Variant, config: Config): Plan {
  const n = config.leechers
  const ups = variant === 'hetero'
    ? Array.from({ length: n }, (_, i) => (n === 1 ? 11 : 2 + 18 * i / (n - 1)))
    : Array.from({ length: n }, () => config.up)
  const joinAt = Array.from({ length: n }, (_, i) => (variant === 'join' && n > 1 ? config.joinSeconds * i / (n - 1) : 0))
  return { variant, ups, joinAt, leave: variant === 'leave', transport: variant === 'utp' ? 'utp' : 'tcp' }
}

/**
 * Kumar–Ross: no schedule finishes before the seeder has sent one copy, the slowest downlink has
 * taken one, and the swarm's total upload has carried N copies. With late joiners, the last
 * cannot finish before it joins plus one copy over its downlink.
 */
function lowerBound (p: Plan, config: Config): number {
  const bits = config.megabytes * MIB * 8
  const mbit = 1e6
  const n = p.ups.length
  const total = config.seedUp + p.ups.reduce((a, b) => a + b, 0)
  const kumarRoss = Math.max(bits / (config.seedUp * mbit), bits / (config.down * mbit), n * bits / (total * mbit))
  return Math.max(kumarRoss, ...p.joinAt.map((at) => at + bits / (config.down * mbit)))
}

function shaping (mbps: number, config: Config): Shaping {
  return { rate: tcRate(mbps), burst: config.burst, latency: config.latency }
}

function peerCommand (kind: ClientKind, role: 'seed' | 'leech', p: Plan, config: Config, torrent: string, dir: string): { env: Record<string, string>, command: string, args: string[] } {
  const utp = p.transport === 'utp' ? ['--utp-only'] : []
  if (kind === 'lt') {
    return role === 'seed'
      ? { env: config.superSeed ? { LT_SUPER_SEED: '1' } : {}, command: config.python, args: [LT_PEER, 'seed', torrent, dir, ...utp] }
      : { env: {}, command: config.python, args: [ltSwarmPeer, torrent, dir, ...utp] }
  }
  return { env: { BENCH_TRANSPORT: p.transport, ...(role === 'seed' && config.superSeed ? { BENCH_SUPER_SEED: '1' } : {}) }, command: process.execPath, args: [tlPeer, role === 'seed' ? 'seed' : 'swarm', torrent, dir] }
}

function start (kind: ClientKind, role: 'seed' | 'leech', host: LabHost, p: Plan, config: Config, torrent: string, dir: string): Child {
  const { env, command, args } = peerCommand(kind, role, p, config, torrent, dir)
  const listen: Record<string, string> = kind === 'lt' ? { LT_PEER_LISTEN: `${host.address}:0` } : { BENCH_HOST: host.address }
  return startIn(host, { ...env, ...listen }, command, args, { timeoutMs: config.timeoutMs, stdin: true })
}

async function endAll (peers: readonly Child[], graceMs: number): Promise<number> {
  for (const peer of peers) peer.closeStdin()
  const signals = await Promise.all(peers.map((peer) => peer.stop(graceMs)))
  return signals.filter((signal) => signal !== null).length
}

/** Stops the seeder once its uplink has carried `copy` × the data; resolves to when, or null if the swarm finished first. */
async function leaveAfterOneCopy (lab: NetLab, host: LabHost, seeder: Child, bytes: number, started: number, finished: Promise<unknown>): Promise<number | null> {
  const base = (await lab.shaper(host, 'up'))?.sentBytes ?? 0
  let over = false
  finished.then(() => { over = true }, () => { over = true })
  while (!over) {
    await sleep(100)
    if (((await lab.shaper(host, 'up'))?.sentBytes ?? 0) - base >= bytes) {
      seeder.closeStdin()
      return (performance.now() - started) / 1000
    }
  }
  return null
}

async function runSwarm (kind: ClientKind, p: Plan, config: Config, torrent: string, seedDir: string, source: string, workDir: string): Promise<SwarmResult> {
  const dirs = Array.from({ length: config.leechers }, (_, i) => join(workDir, `${kind}-${p.variant}-${i}`))
  for (const dir of dirs) mkdirSync(dir)
  try {
    const result = await withLab(async (lab): Promise<SwarmResult> => {
      const lowat = config.notsentLowat === undefined ? {} : { notsentLowat: config.notsentLowat }
      const seedHost = await lab.publicHost('seed', { up: shaping(config.seedUp, config), ...lowat })
      const hosts: LabHost[] = []
      for (const [i, up] of p.ups.entries()) hosts.push(await lab.publicHost(`l${i}`, { up: shaping(up, config), down: shaping(config.down, config), ...lowat }))
      const seeder = start(kind, 'seed', seedHost, p, config, torrent, seedDir)
      const leechers: Child[] = []
      let meter = loadMeter()
      let sampler: ReturnType<typeof sampleUplinks> | null = null
      try {
        const { port: seedPort } = await seeder.nextLine<{ port: number }>(Date.now() + config.timeoutMs, `${kind} seeder checking its data`)
        for (const [i, host] of hosts.entries()) leechers.push(start(kind, 'leech', host, p, config, torrent, dirs[i]!))
        const listening = Date.now() + config.timeoutMs
        const ports = await Promise.all(leechers.map(async (l, i) => (await l.nextLine<{ port: number }>(listening, `${kind} leecher ${i} listening`)).port))
        const addresses = [`${seedHost.address}:${seedPort}`, ...hosts.map((h, i) => `${h.address}:${ports[i]}`)]
        sampler = sampleUplinks(lab, [seedHost, ...hosts], SAMPLE_MS)
        meter = loadMeter()
        const started = performance.now()
        const joins = leechers.map(async (l, i) => {
          await sleep(p.joinAt[i]! * 1000)
          l.send(JSON.stringify({ peers: addresses.filter((_, j) => j !== i + 1) }))
        })
        const deadline = Date.now() + config.timeoutMs
        const ends = leechers.map(async (l, i) => {
          await l.nextLine<Report>(deadline, `${kind} leecher ${i}`)
          return (performance.now() - started) / 1000
        })
        const finished = Promise.all(ends)
        finished.catch(() => undefined)
        const left = !p.leave
          ? Promise.resolve(null)
          : config.leaveCopy === undefined
            ? Promise.race(ends).then((at) => { seeder.closeStdin(); return at }, () => null)
            : leaveAfterOneCopy(lab, seedHost, seeder, config.megabytes * MIB * config.leaveCopy, started, finished)
        const done = await finished
        await Promise.all(joins)
        const seederLeftAt = await left
        const samples = await sampler.stop()
        const load = meter.read()
        const forced = await endAll([seeder, ...leechers], KILL_GRACE_MS)
        if (forced > 0) throw new Error(`${forced} ${kind} peers did not exit within ${KILL_GRACE_MS / 1000} s of their stdin closing`)
        for (const [i, dir] of dirs.entries()) {
          if (!await sameContent(source, await findDownloaded(dir, DATA_NAME))) throw new Error(`${kind} leecher ${i}'s file differs from the source`)
        }
        return { client: kind, ok: true, done, lastDone: Math.max(...done), samples, seederLeftAt, load }
      } catch (err) {
        return { client: kind, ok: false, error: err instanceof Error ? err.message : String(err), load: meter.read() }
      } finally {
        await sampler?.stop()
        await endAll([seeder, ...leechers], 0)
      }
    })
    if (result === null) throw new Error(NETLAB_MISSING)
    return result
  } finally {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  }
}

/** Sent bytes over what the rate allows in the window, for host `i` of the samples (0: the seeder). */
function use (samples: readonly Sample[], i: number, mbps: number, from: number, to: number): number {
  return to > from ? sentBetween(samples, i, from, to) * 8 / (mbps * 1e6 * (to - from)) : 0
}

function report (p: Plan, config: Config, results: readonly SwarmResult[]): string {
  const bound = lowerBound(p, config)
  const lt = results.find((r) => r.client === 'lt')
  const ltLast = lt?.ok === true ? lt.lastDone : null
  const needed = config.leechers * config.megabytes * MIB
  const rows = results.map((r) => {
    if (!r.ok) return [r.client, 'FAILED', '-', '-', '-', '-', '-', '-', '-', formatLoad(r.load)]
    const leecherUse = p.ups.map((up, i) => use(r.samples, i + 1, up, p.joinAt[i]!, r.lastDone))
    const sentBytes = r.samples[0]!.sent.map((_, i) => sentBetween(r.samples, i, 0, r.lastDone)).reduce((a, b) => a + b, 0)
    const weighted = p.ups.reduce((sum, up, i) => sum + sentBetween(r.samples, i + 1, p.joinAt[i]!, r.lastDone) * 8, 0) /
      p.ups.reduce((sum, up, i) => sum + up * 1e6 * (r.lastDone - p.joinAt[i]!), 0)
    const seederUse = use(r.samples, 0, config.seedUp, 0, r.seederLeftAt ?? r.lastDone)
    // When the swarm's upload is the bound, x bound = (sent/needed) / (use of every uplink): what the headers and duplicates cost, and what idle uplinks cost.
    const capacity = (config.seedUp * (r.seederLeftAt ?? r.lastDone) + p.ups.reduce((sum, up, i) => sum + up * (r.lastDone - p.joinAt[i]!), 0)) * 1e6
    const allUse = sentBytes * 8 / capacity
    return [r.client, fixed(r.lastDone, 1), fixed(r.lastDone / bound, 3), fixed(ltLast === null ? null : r.lastDone / ltLast, 2), fixed(allUse * 100, 1),
      `${fixed(weighted * 100, 0)} (${fixed(Math.min(...leecherUse) * 100, 0)}-${fixed(Math.max(...leecherUse) * 100, 0)})`,
      fixed(seederUse * 100, 0), fixed(sentBytes / 1e6, 0), fixed(sentBytes / needed, 3), formatLoad(r.load)]
  })
  const lines = [table(['client', 'last done s', 'x bound', 'x lt', 'all up %', 'leecher up % (min-max)', 'seeder up %', 'sent MB', 'sent/needed', 'machine'], rows)]
  for (const r of results) {
    if (!r.ok) { lines.push(`${r.client} failed: ${r.error}`); continue }
    lines.push(`${r.client} leechers done at s: ${r.done.map((d) => d.toFixed(1)).join(' ')}${r.seederLeftAt === null ? '' : `; seeder left at ${r.seederLeftAt.toFixed(1)} s`}`)
    const windows: string[] = []
    for (let from = 0; from < r.lastDone; from += config.traceSeconds) {
      const to = Math.min(r.lastDone, from + config.traceSeconds)
      const active = p.ups.map((up, i) => [up, i] as const).filter(([, i]) => p.joinAt[i]! <= from)
      const sent = active.reduce((sum, [, i]) => sum + sentBetween(r.samples, i + 1, from, to) * 8, 0)
      const cap = active.reduce((sum, [up]) => sum + up * 1e6 * (to - from), 0)
      windows.push(cap > 0 ? (100 * sent / cap).toFixed(0) : '-')
    }
    lines.push(`${r.client} leecher uplink use % per ${config.traceSeconds} s: ${windows.join(' ')}`)
    // Until the first leecher is done every leecher still wants data, so what each received then is its share of the swarm's upload.
    const firstDone = Math.min(...r.done)
    lines.push(`${r.client} per leecher (uplink Mbit/s: up use %, up drops, received Mbit/s until ${firstDone.toFixed(1)} s): ` + p.ups.map((up, i) =>
      `${up.toFixed(1)}: ${fixed(use(r.samples, i + 1, up, p.joinAt[i]!, r.done[i]!) * 100, 0)} ${fixed(sentBetween(r.samples, i + 1, 0, r.done[i]!, 'drops'), 0)} ` +
      `${fixed(firstDone > p.joinAt[i]! ? sentBetween(r.samples, i + 1, p.joinAt[i]!, firstDone, 'received') * 8 / 1e6 / (firstDone - p.joinAt[i]!) : null, 1)}`).join(', '))
  }
  return lines.join('\n')
}

async function main (): Promise<number> {
  const config = readConfig(process.argv.slice(2), process.env)
  const { workDir, seedDir, source, torrent, created } = await prepareBench('trackerless-shaped-', config.megabytes, config.python, config.timeoutMs, config.pieceBytes)
  const log = (text: string): void => { process.stdout.write(text + '\n') }
  log(`1 seeder (${config.seedUp} Mbit/s up) + ${config.leechers} leechers (${config.up} Mbit/s up, ${config.down} Mbit/s down), ` +
    `${config.megabytes} MiB, ${config.pieceBytes / 1024} KiB pieces, tbf burst ${config.burst} latency ${config.latency}` +
    `${config.notsentLowat === undefined ? '' : `, tcp_notsent_lowat ${config.notsentLowat}`}; ` +
    `libtorrent ${created.libtorrentVersion}, node ${process.version}`)
  let ok = true
  for (const variant of config.variants) {
    const p = plan(variant, config)
    log(`\n${variant}: ${p.transport}, uplinks ${p.ups.map((u) => u.toFixed(1)).join(' ')} Mbit/s` +
      `${p.joinAt.some((t) => t > 0) ? `, joining at ${p.joinAt.map((t) => t.toFixed(0)).join(' ')} s` : ''}` +
      `${config.superSeed ? ', seeders super-seed' : ''}${p.leave ? `, seeder leaves ${config.leaveCopy === undefined ? 'once the first leecher is done' : `after ${config.leaveCopy} copies on its uplink`}` : ''}; lower bound ${lowerBound(p, config).toFixed(2)} s`)
    const results: SwarmResult[] = []
    for (const kind of config.clients) {
      const result = await runSwarm(kind, p, config, torrent, seedDir, source, workDir)
      ok &&= result.ok
      results.push(result)
      log(`${kind}: ${result.ok ? `last leecher done after ${result.lastDone.toFixed(1)} s` : `failed: ${result.error}`}`)
    }
    log(report(p, config, results))
  }
  return ok ? 0 : 1
}

main().then((code) => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
  killChildren()
})
