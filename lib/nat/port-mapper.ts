import { EventEmitter } from 'node:events'
import net from 'node:net'
import { isLoopback } from '../discovery/address.js'
import { TrackerlessError } from '../errors.js'
import type { MappedProtocol } from './pmp-packet.js'
import { findRouter, type MappingMethod, type Router } from './routers.js'

export type { MappedProtocol } from './pmp-packet.js'
export type { MappingMethod } from './routers.js'

/** RFC 6886 §3.3's recommended lifetime, in seconds. */
const DEFAULT_LIFETIME = 7200
/** After a failed renewal, the next try: soon enough to win the mapping back before peers give up on us. */
const RETRY_AFTER = 60

export interface PortMapping {
  protocol: MappedProtocol
  internalPort: number
  /** The port peers on the internet reach us at. */
  externalPort: number
  /** The router's public IPv4 address; '' if it did not tell. */
  externalAddress: string
  /** Seconds until the mapping ends unless renewed (it is renewed at half of this); 0: until deleted. */
  lifetime: number
  method: MappingMethod
}

export interface PortMapperOptions {
  /** The router to ask by NAT-PMP; default: the IPv4 default gateway. */
  gateway?: string
  /** UDP port of the router's NAT-PMP server (tests); default 5351. */
  gatewayPort?: number
  /** Where SSDP searches go (tests); default the SSDP multicast group. */
  ssdp?: { address: string, port: number }
  /** The protocols to try, at once; default both. */
  methods?: MappingMethod[]
  /** Seconds asked for each mapping; default 7200. */
  lifetime?: number
}

export interface PortMapperEvents {
  /** A port was mapped, or a mapping renewed. */
  map: [mapping: PortMapping]
  /** Mapping a port failed (no router, no NAT-PMP, refused): the client runs on, unreachable from outside its network. */
  fail: [error: TrackerlessError, protocol: MappedProtocol, internalPort: number]
}

interface Wanted { protocol: MappedProtocol, port: number }

/**
 * Maps the client's ports on the router (NAT-PMP, RFC 6886; PCP, RFC 6887; or UPnP IGD,
 * whichever answers first), renews them at half their lifetime
 * and deletes them at stop. Nothing here is fatal: a failure is a 'fail' event and the client
 * goes on as if behind a router that maps nothing.
 */
export class PortMapper extends EventEmitter<PortMapperEvents> {
  private readonly opts: PortMapperOptions
  private router: Router | null = null
  private readonly mappings = new Map<string, PortMapping>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private address: string | null = null
  private stopped = false
  private started: Promise<void> | null = null

  constructor (opts: PortMapperOptions = {}) {
    super()
    this.opts = opts
  }

  /** The router's public address, once a mapping is made. */
  get externalAddress (): string | null {
    return this.address
  }

  /** The port peers outside reach `internalPort` at; null while it is not mapped. */
  externalPort (protocol: MappedProtocol, internalPort: number): number | null {
    return this.mappings.get(`${protocol}:${internalPort}`)?.externalPort ?? null
  }

  /** Current mappings. */
  get current (): PortMapping[] {
    return [...this.mappings.values()]
  }

  /** @internal The client starts it with its ports. Starts mapping `ports` in the background;
   *  resolves when each has been mapped or has failed. */
  start (ports: Wanted[]): Promise<void> {
    this.started ??= this.run(ports)
    return this.started
  }

  /** Deletes the mappings made (a gateway that does not answer is given under a second) and stops renewing. */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    const router = this.router
    if (router === null) return
    await Promise.all([...this.mappings.values()].map((m) => router.unmap(m.protocol, m.internalPort, m.externalPort).catch(() => {})))
    this.mappings.clear()
    router.close()
  }

  private async run (ports: Wanted[]): Promise<void> {
    let router: Router
    try {
      router = await findRouter({
        ...(this.opts.methods !== undefined ? { methods: this.opts.methods } : {}),
        ...(this.opts.gateway !== undefined ? { pmp: { host: this.opts.gateway, ...(this.opts.gatewayPort !== undefined ? { port: this.opts.gatewayPort } : {}) } } : {}),
        ...(this.opts.ssdp !== undefined ? { ssdp: this.opts.ssdp } : {})
      }, () => this.stopped)
    } catch (err) {
      const error = err instanceof TrackerlessError ? err : new TrackerlessError('EPORTMAP', String(err))
      if (!this.stopped) for (const p of ports) this.emit('fail', error, p.protocol, p.port)
      return
    }
    if (this.stopped) return
    this.router = router
    this.address = router.address !== '' ? router.address : null
    await Promise.all(ports.map((p) => this.map(p, p.port)))
  }

  private async map (wanted: Wanted, externalPort: number): Promise<void> {
    const router = this.router
    if (router === null || this.stopped) return
    const lifetime = this.opts.lifetime ?? DEFAULT_LIFETIME
    try {
      const granted = await router.map(wanted.protocol, wanted.port, externalPort, lifetime)
      if (this.stopped) return
      if (granted.externalAddress !== undefined && granted.externalAddress !== '') this.address = granted.externalAddress
      const mapping: PortMapping = { protocol: wanted.protocol, internalPort: wanted.port, externalPort: granted.externalPort, lifetime: granted.lifetime, externalAddress: this.address ?? '', method: router.method }
      this.mappings.set(`${wanted.protocol}:${wanted.port}`, mapping)
      this.emit('map', mapping)
      // Ask for the same external port again, so that what we announced stays true.
      if (granted.lifetime > 0) this.later(Math.max(1, granted.lifetime / 2), () => this.map(wanted, granted.externalPort))
    } catch (err) {
      if (this.stopped) return
      const error = err instanceof TrackerlessError ? err : new TrackerlessError('EPORTMAP', String(err))
      this.emit('fail', error, wanted.protocol, wanted.port)
      // A router that never mapped the port will not start to; one that did may be rebooting.
      if (this.mappings.has(`${wanted.protocol}:${wanted.port}`)) this.later(RETRY_AFTER, () => this.map(wanted, externalPort))
    }
  }

  private later (seconds: number, fn: () => Promise<void>): void {
    const timer = setTimeout(() => { this.timers.delete(timer); void fn() }, seconds * 1000)
    timer.unref()
    this.timers.add(timer)
  }
}

/**
 * Whether a client bound to `host` should map its ports: not when bound to loopback (nothing
 * outside can reach it anyway, and tests on 127.0.0.1 must not talk to the machine's router) nor
 * to an IPv6 address (NAT-PMP maps IPv4).
 */
export function mapsPortsFor (host: string | undefined): boolean {
  if (host === undefined || host === '0.0.0.0' || host === '::') return true
  return net.isIPv4(host) && !isLoopback(host)
}
