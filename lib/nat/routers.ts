import { TrackerlessError } from '../errors.js'
import { defaultGateway } from './gateway.js'
import { IgdClient } from './igd.js'
import { PmpClient } from './pmp.js'
import { PcpClient } from './pcp.js'
import type { MappedProtocol } from './pmp-packet.js'
import { findGateway } from './ssdp.js'

export type MappingMethod = 'nat-pmp' | 'pcp' | 'upnp'

/** A router that maps ports, whichever protocol it speaks. */
export interface Router {
  readonly method: MappingMethod
  /** Its public address, as it told it when found ('' if it did not). */
  readonly address: string
  /** PCP tells the external address with each mapping. */
  map(protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<{ externalPort: number, lifetime: number, externalAddress?: string }>
  unmap(protocol: MappedProtocol, internalPort: number, externalPort: number): Promise<void>
  close(): void
}

export interface FindRouterOptions {
  methods?: MappingMethod[]
  /** The NAT-PMP and PCP server; default: the IPv4 default gateway's port 5351. */
  pmp?: { host: string, port?: number }
  /** Where SSDP searches go (tests); default the SSDP multicast group. */
  ssdp?: { address: string, port: number }
}

/**
 * Asks the LAN for a router by NAT-PMP, PCP and UPnP IGD at once and takes the first that answers
 * (one that answers later is closed). Rejects with every method's reason when none does.
 */
export async function findRouter (opts: FindRouterOptions, isStopped: () => boolean): Promise<Router> {
  const methods = opts.methods ?? ['nat-pmp', 'pcp', 'upnp']
  const probes = methods.map((m) => m === 'nat-pmp' ? pmpRouter(opts.pmp) : m === 'pcp' ? pcpRouter(opts.pmp) : upnpRouter(opts.ssdp))
  try {
    const router = await Promise.any(probes)
    for (const probe of probes) void probe.then((r) => { if (r !== router) r.close() }, () => {})
    if (isStopped()) router.close()
    return router
  } catch (err) {
    const reasons = err instanceof AggregateError ? (err.errors as unknown[]) : [err]
    const timedOut = reasons.every((r) => r instanceof TrackerlessError && r.code === 'ETIMEDOUT')
    throw new TrackerlessError(timedOut ? 'ETIMEDOUT' : 'EPORTMAP', reasons.map((r) => r instanceof Error ? r.message : String(r)).join('; '))
  }
}

/** What the NAT-PMP and PCP clients share: both name a mapping by its internal port. */
interface PortClient {
  map(protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<{ externalPort: number, lifetime: number, externalAddress?: string }>
  unmap(protocol: MappedProtocol, internalPort: number): Promise<void>
  close(): void
}

/**
 * A NAT-PMP or PCP router at the default gateway (or `target`) once `probe` says it answers;
 * the client is closed if it does not.
 */
async function udpRouter<C extends PortClient> (method: MappingMethod, target: FindRouterOptions['pmp'], open: (gateway: string, port?: number) => C, probe: (client: C) => Promise<string>): Promise<Router> {
  const gateway = target?.host ?? await defaultGateway()
  if (gateway === null) throw new TrackerlessError('EPORTMAP', 'no IPv4 default gateway to ask for a port mapping by NAT-PMP or PCP')
  const client = open(gateway, target?.port)
  try {
    const address = await probe(client)
    return {
      method,
      address,
      map: async (protocol, internalPort, externalPort, lifetime) => await client.map(protocol, internalPort, externalPort, lifetime),
      unmap: async (protocol, internalPort) => { await client.unmap(protocol, internalPort) },
      close: () => client.close()
    }
  } catch (err) {
    client.close()
    throw err
  }
}

async function pmpRouter (target: FindRouterOptions['pmp']): Promise<Router> {
  // The address request first (RFC 6886 §3.2): a router that does not answer it is asked nothing more.
  return await udpRouter('nat-pmp', target, (gateway, port) => new PmpClient(gateway, port), async (client) => await client.externalAddress())
}

async function pcpRouter (target: FindRouterOptions['pmp']): Promise<Router> {
  // ANNOUNCE tells whether the gateway speaks PCP; the external address comes with each MAP answer.
  return await udpRouter('pcp', target, (gateway, port) => new PcpClient(gateway, port), async (client) => { await client.announce(); return '' })
}

async function upnpRouter (target: FindRouterOptions['ssdp']): Promise<Router> {
  const location = await findGateway(undefined, target)
  if (location === null) throw new TrackerlessError('ETIMEDOUT', 'no UPnP router answered an SSDP search')
  const client = await IgdClient.open(location)
  return {
    method: 'upnp',
    address: client.address,
    map: async (protocol, internalPort, externalPort, lifetime) => await client.map(protocol, internalPort, externalPort, lifetime),
    unmap: async (protocol, _internalPort, externalPort) => { await client.unmap(protocol, externalPort) },
    close: () => client.close()
  }
}
