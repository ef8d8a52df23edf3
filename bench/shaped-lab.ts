/**
 * What the shaped-link benchmarks (bench/shaped-swarm.ts, bench/utp-shaped.ts) share: peers run
 * in the NAT lab's namespaces, rates, the uplink sampler and the machine's load beside each figure.
 */
import { loadavg } from 'node:os'
import { startChild, type Child, type ChildOptions } from './child.js'
import { busyPercent, readCpuTimes, stealPercent, type CpuTimes } from './proc.js'
import type { LabHost, NetLab } from '../test/helpers/netlab.js'

export const MIB = 1 << 20

/** tc's rate for `mbps` megabits per second (tc's mbit is 10^6 bit/s; kbit keeps fractions). */
export function tcRate (mbps: number): string {
  return `${Math.round(mbps * 1000)}kbit`
}

/** Starts `command` in the host's namespace with `env` added; `ip netns exec` and `env` exec, so the PID is the program's. */
export function startIn (host: LabHost, env: Record<string, string>, command: string, args: readonly string[], options: ChildOptions): Child {
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`)
  return startChild('ip', ['netns', 'exec', host.ns, 'env', ...assignments, command, ...args], options)
}

/** Bytes each host's uplink shaper has sent, read at `seconds` since the sampler started. */
export interface Sample {
  readonly seconds: number
  readonly sent: readonly number[]
  /** Bytes each host's downlink shaper has passed to it (0 for a host without one). */
  readonly received: readonly number[]
  /** Packets each host's uplink shaper has dropped (its queue held them longer than tbf's latency). */
  readonly drops: readonly number[]
}

/**
 * Reads the uplink shapers of `hosts` every `everyMs` until stopped. The shapers count L2 bytes,
 * as tbf meters them, so a host's sent bytes over its rate is exactly the share of its uplink used.
 */
export function sampleUplinks (lab: NetLab, hosts: readonly LabHost[], everyMs: number): { stop(): Promise<Sample[]> } {
  const samples: Sample[] = []
  const started = performance.now()
  let stopped = false
  const read = async (): Promise<void> => {
    const seconds = (performance.now() - started) / 1000
    try {
      const [up, down] = await Promise.all([
        Promise.all(hosts.map(async (h) => lab.shaper(h, 'up'))),
        Promise.all(hosts.map(async (h) => lab.shaper(h, 'down')))
      ])
      samples.push({ seconds, sent: up.map((c) => c?.sentBytes ?? 0), received: down.map((c) => c?.sentBytes ?? 0), drops: up.map((c) => c?.drops ?? 0) })
    } catch (err) {
      // A run that failed may tear the lab down before it stops the sampler.
      if (!stopped) throw err
    }
  }
  let reading = read()
  const timer = setInterval(() => { reading = reading.then(read, read) }, everyMs)
  return {
    async stop (): Promise<Sample[]> {
      if (stopped) return samples
      stopped = true
      clearInterval(timer)
      await reading.catch(() => undefined)
      await read()
      return samples
    }
  }
}

/** Bytes host `i` sent between `from` and `to` seconds, interpolated between samples. */
export function sentBetween (samples: readonly Sample[], i: number, from: number, to: number, counter: 'sent' | 'received' | 'drops' = 'sent'): number {
  return counterAt(samples, i, to, counter) - counterAt(samples, i, from, counter)
}

function counterAt (samples: readonly Sample[], i: number, at: number, counter: 'sent' | 'received' | 'drops'): number {
  let before = samples[0]
  if (before === undefined) return 0
  for (const s of samples) {
    if (s.seconds >= at) {
      const span = s.seconds - before.seconds
      const a = before[counter][i] ?? 0
      const b = s[counter][i] ?? 0
      return span <= 0 ? b : a + (b - a) * (at - before.seconds) / span
    }
    before = s
  }
  return before[counter][i] ?? 0
}

/** The machine around one measurement: load averages, and the busy and steal shares of all CPUs. */
export interface Load {
  readonly loadAverage: number
  readonly busyPercent: number
  readonly stealPercent: number
}

export function loadMeter (): { read(): Load } {
  const before: CpuTimes = readCpuTimes()
  return {
    read (): Load {
      const after = readCpuTimes()
      return { loadAverage: loadavg()[0]!, busyPercent: busyPercent(before, after), stealPercent: stealPercent(before, after) }
    }
  }
}

export function formatLoad (load: Load): string {
  return `load ${load.loadAverage.toFixed(2)}, busy ${load.busyPercent.toFixed(0)} %, steal ${load.stealPercent.toFixed(1)} %`
}

/** Columns aligned: the first to the left, the others to the right. */
export function table (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

export function fixed (n: number | null | undefined, digits: number): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits)
}

export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
