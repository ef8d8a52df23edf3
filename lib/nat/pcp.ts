import { randomBytes } from 'node:crypto'
import { TrackerlessError } from '../errors.js'
import { GatewaySocket } from './gateway-socket.js'
import { PMP_PORT, type MappedProtocol } from './pmp-packet.js'
import { decodePcpReply, encodeAnnounce, encodeMap, pcpProtocolNumber, pcpResultText, type PcpReply } from './pcp-packet.js'

/**
 * A PCP client (RFC 6887) for one gateway: MAP requests for our IPv4 ports. Each mapping keeps
 * the nonce it was made with, as renewing or deleting it must send the same one (§11.1).
 */
export class PcpClient {
  private readonly socket: GatewaySocket<PcpReply>
  private readonly nonces = new Map<string, Buffer>()

  constructor (readonly gateway: string, port = PMP_PORT) {
    this.socket = new GatewaySocket(gateway, port, 'PCP', decodePcpReply)
  }

  /** Whether the gateway speaks PCP: ANNOUNCE answered with success (§14.1). */
  async announce (): Promise<void> {
    this.check(await this.socket.request(encodeAnnounce(await this.socket.localAddress()), (r) => r.op === 'announce'))
  }

  async map (protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number, tries?: number): Promise<{ externalPort: number, lifetime: number, externalAddress: string }> {
    const key = `${protocol}:${internalPort}`
    const nonce = this.nonces.get(key) ?? randomBytes(12)
    this.nonces.set(key, nonce)
    const request = encodeMap(await this.socket.localAddress(), nonce, protocol, internalPort, externalPort, lifetime)
    const reply = this.check(await this.socket.request(request, (r) => r.op === 'map' && r.nonce.equals(nonce) &&
      r.protocol === pcpProtocolNumber(protocol) && r.internalPort === internalPort, tries))
    if (reply.op !== 'map') throw new Error('unreachable')
    return { externalPort: reply.externalPort, lifetime: reply.lifetime, externalAddress: reply.externalAddress }
  }

  /** Deletes the mapping (lifetime 0, same nonce); two tries, so that a gone gateway does not hold up a stop. */
  async unmap (protocol: MappedProtocol, internalPort: number): Promise<void> {
    if (!this.nonces.has(`${protocol}:${internalPort}`)) return
    await this.map(protocol, internalPort, 0, 0, 2)
    this.nonces.delete(`${protocol}:${internalPort}`)
  }

  close (): void {
    this.socket.close()
  }

  private check (reply: PcpReply): PcpReply {
    if (reply.result !== 0) throw new TrackerlessError('EPORTMAP', `the gateway ${this.gateway} refused the PCP request: ${pcpResultText(reply.result)}`)
    return reply
  }
}
