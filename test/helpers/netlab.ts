/**
 * The NAT lab: a "public" segment and home networks behind NAT routers, each in network
 * namespaces of the test's own, for tests and benchmarks of reachability.
 *
 * - The public segment is a bridge in its own namespace, 100.64.0.0/24 (shared address space, RFC
 *   6598: never routed on the internet). Public hosts and routers' WAN sides are veth ports on it.
 * - A home is a router namespace (WAN 100.64.0.x, LAN 192.168.n.1/24) and one host behind it
 *   (192.168.n.2, default route via the router). The router masquerades (nft, the backend of
 *   Debian's iptables), drops unsolicited inbound packets silently (no RST, no ICMP), as consumer
 *   routers do, and counts new connections that came in through a port mapping (DNAT).
 * - `miniupnpd: true` runs Debian's miniupnpd (UPnP IGD, NAT-PMP, PCP) in the router with a
 *   generated config. miniupnpd 2.3.1 maps nothing while its WAN address is private or reserved
 *   (100.64/10 is), and refuses a reserved ext_ip; asked to learn its address by STUN
 *   (ext_perform_stun) and told by our STUN responder that no NAT is in the way, it maps.
 * - `rate` shapes the router's WAN with `tc tbf` (netem is not available on these kernels); a
 *   public host's `up` and `down` shape its own link: tbf on its veth's egress for the uplink, on
 *   the bridge port's egress for the downlink, so that each host has a rate of its own both ways.
 *
 * Nothing has a route out: public hosts know only their segment, routers only their two links.
 * The root namespace is untouched: every veth is created inside a lab namespace with its peer
 * in another. Names carry the PID; namespaces left by a run that died are removed by the next.
 * Every process is started by the lab and stopped by PID; close() deletes every namespace.
 * Tests take a lab with netLab(t); benchmarks with withLab(fn), which tears it down when fn ends,
 * throws, or the process is interrupted.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))

export const NETLAB_MISSING = 'the NAT lab needs root and `ip netns` (iproute2), nft and miniupnpd: it builds its networks in namespaces of its own'

const SEGMENT = '100.64.0'
const STUN_ADDRESS = `${SEGMENT}.3`
const STUN_PORT = 3478
/** How long miniupnpd is given to run its STUN check and open its NAT-PMP port. */
const MINIUPNPD_READY_MS = 10_000
const STOP_GRACE_MS = 3_000

export interface LabHost {
  /** The namespace: run programs in it with `ip netns exec`. */
  ns: string
  /** Its IPv4 address. */
  address: string
}

export interface LabHome {
  /** The router; `address` is its WAN (public) address. */
  router: LabHost
  /** The host behind it; `address` is its LAN address. */
  host: LabHost
  /** The router's LAN address, the host's default gateway. */
  gateway: string
  /** New connections from the WAN that came in through a port mapping (DNAT), by the router's counter. */
  mappedIn(): Promise<number>
  /** The port mappings miniupnpd has made: the router's DNAT rules, one text line each. */
  forwards(): Promise<string[]>
  /** What miniupnpd logged (empty without it). */
  miniupnpdLog(): string
}

/** A `tc tbf` shaper: rate, and the bucket and queue behind it. */
export interface Shaping {
  /** tc's rate, e.g. '10mbit'. */
  rate: string
  /** Bucket size (tc's burst), default '64kb'. */
  burst?: string
  /** Longest a packet may wait in the queue before it is dropped (tc's latency), default '100ms'. */
  latency?: string
}

export interface PublicHostOptions {
  /** Shape what the host sends: a rate like '10mbit', or a Shaping. */
  up?: string | Shaping
  /** Shape what the host receives (on the bridge's side of its link). */
  down?: string | Shaping
  /** The namespace's net.ipv4.tcp_notsent_lowat: unsent bytes a TCP socket of the host holds at most, as TCP_NOTSENT_LOWAT sets per socket. */
  notsentLowat?: number
}

/** What a lab's interface has counted: bytes and packets each way (L2 lengths, as tbf counts them). */
export interface LinkCounters {
  txBytes: number
  rxBytes: number
  txPackets: number
  rxPackets: number
}

/** What a host's shaper has seen: packets dropped and how often the rate held one back. */
export interface ShaperCounters {
  sentBytes: number
  drops: number
  overlimits: number
}

export interface HomeOptions {
  /** Run miniupnpd (UPnP IGD, NAT-PMP, PCP) in the router. Default false. */
  miniupnpd?: boolean
  /** Shape the router's WAN egress with tc tbf, e.g. '20mbit'. */
  rate?: string
}

export interface NetLab {
  readonly id: string
  /** A new host on the public segment, its link shaped as `opts` says. */
  publicHost(label: string, opts?: PublicHostOptions): Promise<LabHost>
  /** The counters of a public host's link (its eth0). */
  counters(host: LabHost): Promise<LinkCounters>
  /** The counters of a public host's shaper in one direction; null when it has none that way. */
  shaper(host: LabHost, direction: 'up' | 'down'): Promise<ShaperCounters | null>
  /** A new home network: a NAT router and one host behind it. */
  home(label: string, opts?: HomeOptions): Promise<LabHome>
  /** Deletes every namespace and stops every process of the lab (also called when the test ends). */
  close(): Promise<void>
}

let labs = 0

/** Where a lab's teardown is registered: a node:test TestContext, or withLab's own. */
export interface Teardown {
  after(fn: () => Promise<void>): void
}

/**
 * A new, empty lab (the public segment only), closed when the test ends; null when this machine
 * cannot make one (not root, no iproute2, nft or miniupnpd): skip with NETLAB_MISSING.
 */
export async function netLab (t: TestContext | Teardown): Promise<NetLab | null> {
  if (!await available(true)) return null
  return await openLab(t)
}

/**
 * Runs `fn` with a new lab of public hosts (no NAT routers: nft and miniupnpd are not needed) and
 * tears the lab down when fn resolves or throws, or when SIGINT or SIGTERM arrives first (then the
 * process exits with 130). Resolves to null, without calling fn, when this machine cannot make a
 * lab (NETLAB_MISSING says why). For benchmarks, which have no TestContext.
 */
export async function withLab<T> (fn: (lab: NetLab) => Promise<T>): Promise<T | null> {
  if (!await available(false)) return null
  let lab: Lab | null = null
  const onSignal = (): void => { (lab?.close() ?? Promise.resolve()).finally(() => process.exit(130)) }
  // Whoever else calls process.exit first (another signal handler), the namespaces still go.
  const onExit = (): void => lab?.closeSync()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', onExit)
  try {
    lab = await openLab({ after: async () => {} })
    return await fn(lab)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', onExit)
    await lab?.close()
  }
}

async function available (nat: boolean): Promise<boolean> {
  if (process.getuid?.() !== 0) return false
  try {
    await Promise.all([run('ip', ['netns', 'list']), run('tc', ['-V']),
      ...(nat ? [run('nft', ['--version']), fs.promises.access('/usr/sbin/miniupnpd')] : [])])
    return true
  } catch {
    return false
  }
}

async function openLab (t: TestContext | Teardown): Promise<Lab> {
  await removeStale()
  const lab = new Lab(`tln${process.pid}-${labs++}`)
  t.after(() => lab.close())
  try {
    await lab.init()
  } catch (err) {
    await lab.close()
    throw err
  }
  return lab
}

class Lab implements NetLab {
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()
  private readonly tmp: string
  private nextPublic = 10
  private nextRouter = 100
  private nextHome = 1
  private ports = 0
  /** Each attached namespace's port on the bridge, where its downlink is shaped. */
  private readonly bridgePort = new Map<string, string>()
  private stun: Promise<void> | null = null

  constructor (readonly id: string) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${id}-`))
  }

  private get pub (): string {
    return `${this.id}-pub`
  }

  async init (): Promise<void> {
    await this.addNamespace(this.pub)
    await ip(this.pub, 'link', 'add', 'br0', 'type', 'bridge')
    await ip(this.pub, 'link', 'set', 'br0', 'up')
  }

  async publicHost (label: string, opts: PublicHostOptions = {}): Promise<LabHost> {
    const host = await this.attach(`${this.id}-${label}`, `${SEGMENT}.${this.nextPublic++}`, 'eth0')
    if (opts.up !== undefined) await shape(host.ns, 'eth0', opts.up)
    if (opts.notsentLowat !== undefined) await inNs(host.ns, 'sysctl', ['-qw', `net.ipv4.tcp_notsent_lowat=${opts.notsentLowat}`])
    if (opts.down !== undefined) await shape(this.pub, this.bridgePort.get(host.ns)!, opts.down)
    return host
  }

  async counters (host: LabHost): Promise<LinkCounters> {
    const { stdout } = await run('ip', ['-n', host.ns, '-s', '-j', 'link', 'show', 'eth0'])
    const [link] = JSON.parse(stdout) as Array<{ stats64: { rx: { bytes: number, packets: number }, tx: { bytes: number, packets: number } } }>
    if (link === undefined) throw new Error(`no eth0 in ${host.ns}`)
    return { txBytes: link.stats64.tx.bytes, rxBytes: link.stats64.rx.bytes, txPackets: link.stats64.tx.packets, rxPackets: link.stats64.rx.packets }
  }

  async shaper (host: LabHost, direction: 'up' | 'down'): Promise<ShaperCounters | null> {
    const [ns, dev] = direction === 'up' ? [host.ns, 'eth0'] : [this.pub, this.bridgePort.get(host.ns)!]
    const { stdout } = await run('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', dev])
    const qdiscs = JSON.parse(stdout) as Array<{ kind: string, bytes: number, drops: number, overlimits: number }>
    const tbf = qdiscs.find((q) => q.kind === 'tbf')
    return tbf === undefined ? null : { sentBytes: tbf.bytes, drops: tbf.drops, overlimits: tbf.overlimits }
  }

  async home (label: string, opts: HomeOptions = {}): Promise<LabHome> {
    const n = this.nextHome++
    const router = await this.attach(`${this.id}-${label}-r`, `${SEGMENT}.${this.nextRouter++}`, 'wan')
    const host = { ns: `${this.id}-${label}`, address: `192.168.${n}.2` }
    const gateway = `192.168.${n}.1`
    await this.addNamespace(host.ns)
    await ip(router.ns, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns)
    await ip(router.ns, 'addr', 'add', `${gateway}/24`, 'dev', 'lan')
    await ip(router.ns, 'link', 'set', 'lan', 'up')
    await ip(host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0')
    await ip(host.ns, 'link', 'set', 'eth0', 'up')
    await ip(host.ns, 'route', 'add', 'default', 'via', gateway)
    await inNs(router.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1'])
    await inNs(router.ns, 'nft', ['-f', '-'], ROUTER_RULES)
    if (opts.rate !== undefined) {
      await inNs(router.ns, 'tc', ['qdisc', 'add', 'dev', 'wan', 'root', 'tbf', 'rate', opts.rate, 'burst', '64kb', 'latency', '100ms'])
    }
    let log = ''
    if (opts.miniupnpd === true) log = await this.miniupnpd(router.ns, `192.168.${n}.0/24`)
    return {
      router,
      host,
      gateway,
      mappedIn: async () => {
        const rules = await inNs(router.ns, 'nft', ['list', 'chain', 'inet', 'filter', 'forward'])
        const counter = /comment "mapped-in"/.test(rules) ? /ct status dnat counter packets (\d+)/.exec(rules) : null
        if (counter === null) throw new Error(`no mapped-in counter in the router's rules:\n${rules}`)
        return Number(counter[1])
      },
      forwards: async () => {
        const rules = await inNs(router.ns, 'nft', ['list', 'chain', 'inet', 'filter', 'prerouting_miniupnpd'])
        return rules.split('\n').map((l) => l.trim()).filter((l) => l.includes('dnat'))
      },
      miniupnpdLog: () => opts.miniupnpd === true ? fs.readFileSync(log, 'utf8') : ''
    }
  }

  async close (): Promise<void> {
    await Promise.all([...this.children].map(stopChild))
    this.children.clear()
    for (const ns of this.namespaces.splice(0)) await run('ip', ['netns', 'del', ns]).catch(() => {})
    fs.rmSync(this.tmp, { recursive: true, force: true })
  }

  /** close() for a process about to exit: kills what the lab started and deletes its namespaces at once. */
  closeSync (): void {
    for (const child of this.children) child.kill('SIGKILL')
    this.children.clear()
    for (const ns of this.namespaces.splice(0)) {
      try { execFileSync('ip', ['netns', 'del', ns]) } catch {}
    }
    fs.rmSync(this.tmp, { recursive: true, force: true })
  }

  private async addNamespace (ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
    await ip(ns, 'link', 'set', 'lo', 'up')
  }

  /** A new namespace with `ifname` at `address` on the public segment. */
  private async attach (ns: string, address: string, ifname: string): Promise<LabHost> {
    await this.addNamespace(ns)
    const port = `p${this.ports++}`
    await ip(ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', port, 'netns', this.pub)
    await ip(this.pub, 'link', 'set', port, 'master', 'br0', 'up')
    this.bridgePort.set(ns, port)
    await ip(ns, 'addr', 'add', `${address}/24`, 'dev', ifname)
    await ip(ns, 'link', 'set', ifname, 'up')
    return { ns, address }
  }

  /** Starts miniupnpd in the router; resolves with its log file's path once it serves NAT-PMP. */
  private async miniupnpd (ns: string, lan: string): Promise<string> {
    this.stun ??= this.startStun()
    await this.stun
    const conf = path.join(this.tmp, `${ns}.conf`)
    const log = path.join(this.tmp, `${ns}.log`)
    fs.writeFileSync(conf, [
      'ext_ifname=wan', 'listening_ip=lan', 'http_port=0', 'enable_natpmp=yes', 'enable_upnp=yes',
      'ext_perform_stun=yes', `ext_stun_host=${STUN_ADDRESS}`, `ext_stun_port=${STUN_PORT}`,
      'secure_mode=yes', 'system_uptime=no', `uuid=${uuid()}`, 'min_lifetime=60',
      `allow 1024-65535 ${lan} 1024-65535`, 'deny 0-65535 0.0.0.0/0 0-65535', ''
    ].join('\n'))
    const out = fs.openSync(log, 'w')
    // -d: in the foreground (its PID is the one we stop), logging to stderr.
    this.start(ns, 'miniupnpd', ['-d', '-f', conf, '-P', path.join(this.tmp, `${ns}.pid`)], ['ignore', out, out])
    fs.closeSync(out)
    const until = Date.now() + MINIUPNPD_READY_MS
    for (;;) {
      const text = fs.readFileSync(log, 'utf8')
      if (text.includes('Listening for NAT-PMP')) {
        if (!text.includes('Port forwarding is now enabled')) throw new Error(`miniupnpd in ${ns} will not forward ports:\n${text}`)
        return log
      }
      if (Date.now() > until) throw new Error(`miniupnpd in ${ns} did not start within ${MINIUPNPD_READY_MS} ms:\n${text}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  private async startStun (): Promise<void> {
    const host = await this.attach(`${this.id}-stun`, STUN_ADDRESS, 'eth0')
    const child = this.start(host.ns, process.execPath, [path.join(here, 'stun-server.js'), String(STUN_PORT)], ['pipe', 'pipe', 'inherit'])
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve())
      child.once('exit', (code) => reject(new Error(`the STUN responder exited (code ${code})`)))
    })
  }

  private start (ns: string, command: string, args: string[], stdio: Array<'pipe' | 'ignore' | 'inherit' | number>): ChildProcess {
    // `ip netns exec` execs the command: the PID we hold is the program's own.
    const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio })
    child.on('error', () => {})
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }
}

/**
 * The router's firewall: masquerade out of the WAN, drop what comes in unasked, and the chains
 * miniupnpd fills (the names of Debian's nft_init.sh, its defaults). The first forward rule counts
 * new connections that a port mapping let in.
 */
const ROUTER_RULES = `
table inet filter {
  chain miniupnpd {
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
    iifname "lan" accept
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname "wan" ct state new ct status dnat counter comment "mapped-in"
    ct state established,related accept
    iifname "lan" oifname "wan" accept
    jump miniupnpd
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
    oifname "wan" masquerade
  }
}
`

/** A tbf root qdisc on `dev` in `ns`. */
async function shape (ns: string, dev: string, how: string | Shaping): Promise<void> {
  const { rate, burst = '64kb', latency = '100ms' } = typeof how === 'string' ? { rate: how } : how
  await inNs(ns, 'tc', ['qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', burst, 'latency', latency])
}

async function ip (ns: string, ...args: string[]): Promise<void> {
  await run('ip', ['-n', ns, ...args])
}

/** Runs `command` in `ns`; resolves with its stdout. */
async function inNs (ns: string, command: string, args: string[], input?: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', ns, command, ...args], (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${command} ${args.join(' ')} in ${ns}: ${stderr || err.message}`))
      else resolve(stdout)
    })
    // A program that reads no stdin (tc) may exit before the end is written.
    child.stdin?.on('error', () => {})
    child.stdin?.end(input ?? '')
  })
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(kill)
}

/** Deletes the namespaces of labs whose process is gone (a run killed before its teardown). */
async function removeStale (): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'list'])
  for (const line of stdout.split('\n')) {
    const match = /^(tln(\d+)-\S+)/.exec(line)
    if (match === null || alive(Number(match[2]))) continue
    await run('ip', ['netns', 'del', match[1]!]).catch(() => {})
  }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function uuid (): string {
  return globalThis.crypto.randomUUID()
}
