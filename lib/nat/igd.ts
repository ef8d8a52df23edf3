import http from 'node:http'
import { TrackerlessError } from '../errors.js'
import type { MappedProtocol } from './pmp-packet.js'

/** A description or SOAP answer longer than this is not from a router. */
const MAX_BODY = 64 * 1024
const HTTP_TIMEOUT = 3_000
/** The services that map ports, best first. */
const SERVICES = ['urn:schemas-upnp-org:service:WANIPConnection:2', 'urn:schemas-upnp-org:service:WANIPConnection:1', 'urn:schemas-upnp-org:service:WANPPPConnection:1']
/** UPnP error 725: the router keeps only permanent leases (IGD:1 allows it); we then ask for 0. */
const ONLY_PERMANENT_LEASES = 725
const DESCRIPTION = 'trackerless'

export interface IgdService { serviceType: string, controlUrl: URL }

/**
 * The port mapping service in a device description (XML, untrusted): the first of SERVICES with
 * a controlURL on the same host and port as the description, so that a LAN host cannot aim our
 * SOAP requests elsewhere; null if there is none.
 */
export function findService (xml: string, location: URL): IgdService | null {
  const found: IgdService[] = []
  for (const block of xml.match(/<service>[\s\S]*?<\/service>/g) ?? []) {
    const serviceType = /<serviceType>\s*([^<]*?)\s*<\/serviceType>/.exec(block)?.[1]
    const control = /<controlURL>\s*([^<]*?)\s*<\/controlURL>/.exec(block)?.[1]
    if (serviceType === undefined || control === undefined || !SERVICES.includes(serviceType)) continue
    let controlUrl: URL
    try {
      controlUrl = new URL(control, location)
    } catch {
      continue
    }
    if (controlUrl.protocol === 'http:' && controlUrl.host === location.host) found.push({ serviceType, controlUrl })
  }
  found.sort((a, b) => SERVICES.indexOf(a.serviceType) - SERVICES.indexOf(b.serviceType))
  return found[0] ?? null
}

/**
 * A UPnP IGD client for one router's port mapping service: AddPortMapping, DeletePortMapping and
 * GetExternalIPAddress over SOAP. `internalAddress` is ours on the LAN, as the router sees it.
 */
export class IgdClient {
  private constructor (private readonly service: IgdService, readonly internalAddress: string, readonly address: string) {}

  /** Fetches the description at `location` and asks the router its external address. */
  static async open (location: URL): Promise<IgdClient> {
    const description = await request(location, 'GET')
    if (description.status !== 200) throw new TrackerlessError('EPORTMAP', `the UPnP router's description at ${location.href} answered HTTP ${description.status}`)
    const service = findService(description.body, location)
    if (service === null) throw new TrackerlessError('EPORTMAP', `the UPnP device at ${location.href} has no port mapping service`)
    const answer = await soap(service, 'GetExternalIPAddress', [])
    const address = /<NewExternalIPAddress>\s*([0-9.]*)\s*<\/NewExternalIPAddress>/.exec(answer.body)?.[1] ?? ''
    return new IgdClient(service, answer.localAddress, address)
  }

  /** Maps `internalPort` at `externalPort` for `lifetime` seconds (0 on routers that keep only permanent leases). */
  async map (protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<{ externalPort: number, lifetime: number }> {
    const args = (lease: number): Array<[string, string | number]> => [
      ['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', protocol.toUpperCase()],
      ['NewInternalPort', internalPort], ['NewInternalClient', this.internalAddress], ['NewEnabled', 1],
      ['NewPortMappingDescription', DESCRIPTION], ['NewLeaseDuration', lease]
    ]
    try {
      await soap(this.service, 'AddPortMapping', args(lifetime))
      return { externalPort, lifetime }
    } catch (err) {
      if (!(err instanceof UpnpError) || err.upnpCode !== ONLY_PERMANENT_LEASES || lifetime === 0) throw err
      await soap(this.service, 'AddPortMapping', args(0))
      return { externalPort, lifetime: 0 }
    }
  }

  async unmap (protocol: MappedProtocol, externalPort: number): Promise<void> {
    await soap(this.service, 'DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', externalPort], ['NewProtocol', protocol.toUpperCase()]])
  }

  close (): void {}
}

class UpnpError extends TrackerlessError {
  constructor (readonly upnpCode: number, message: string) {
    super('EPORTMAP', message)
  }
}

async function soap (service: IgdService, action: string, args: Array<[string, string | number]>): Promise<{ body: string, localAddress: string }> {
  const body = '<?xml version="1.0"?>\r\n<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${service.serviceType}">${args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('')}</u:${action}>` +
    '</s:Body></s:Envelope>\r\n'
  const answer = await request(service.controlUrl, 'POST', body, { 'Content-Type': 'text/xml; charset="utf-8"', SOAPAction: `"${service.serviceType}#${action}"` })
  if (answer.status === 200) return answer
  const code = Number(/<errorCode>\s*(\d+)\s*<\/errorCode>/.exec(answer.body)?.[1] ?? 0)
  const text = /<errorDescription>\s*([^<]{0,200})<\/errorDescription>/.exec(answer.body)?.[1] ?? `HTTP ${answer.status}`
  throw new UpnpError(code, `the UPnP router refused ${action}: ${code !== 0 ? `error ${code}, ` : ''}${text}`)
}

function request (url: URL, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string, localAddress: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { ...headers, ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) }, agent: false, timeout: HTTP_TIMEOUT }, (res) => {
      const localAddress = res.socket?.localAddress ?? ''
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_BODY) req.destroy(new TrackerlessError('EPORTMAP', `the UPnP router at ${url.host} sent more than ${MAX_BODY} bytes`))
        else chunks.push(chunk)
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), localAddress }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new TrackerlessError('ETIMEDOUT', `the UPnP router at ${url.host} did not answer within ${HTTP_TIMEOUT} ms`)))
    req.on('error', (err) => reject(err instanceof TrackerlessError ? err : new TrackerlessError('EPORTMAP', `the UPnP router at ${url.host}: ${err.message}`)))
    req.end(body)
  })
}

function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
