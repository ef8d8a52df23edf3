import { TrackerlessError } from '../errors.js'
import { GatewaySocket } from './gateway-socket.js'
import { PMP_PORT, decodeReply, encodeAddressRequest, encodeMapRequest, resultText, type MappedProtocol, type PmpReply } from './pmp-packet.js'

export interface PmpMapping {
  protocol: MappedProtocol
  internalPort: number
  externalPort: number
  /** Seconds the gateway grants. */
  lifetime: number
}

/** A NAT-PMP client (RFC 6886) for one gateway. */
export class PmpClient {
  private readonly socket: GatewaySocket<PmpReply>

  constructor (readonly gateway: string, port = PMP_PORT) {
    this.socket = new GatewaySocket(gateway, port, 'NAT-PMP', decodeReply)
  }

  /** The gateway's external IPv4 address. */
  async externalAddress (): Promise<string> {
    const reply = checked(await this.socket.request(encodeAddressRequest(), (r) => r.op === 'address'), this.gateway)
    return reply.op === 'address' ? reply.address : ''
  }

  /** Maps `internalPort` for `lifetime` seconds, asking for `externalPort` (the gateway may give another). */
  async map (protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<PmpMapping> {
    const reply = checked(await this.socket.request(encodeMapRequest(protocol, internalPort, externalPort, lifetime), answers(protocol, internalPort)), this.gateway)
    if (reply.op === 'address') throw new Error('unreachable')
    return { protocol, internalPort, externalPort: reply.externalPort, lifetime: reply.lifetime }
  }

  /** Deletes our mapping of `internalPort` (RFC 6886 §3.4: lifetime 0, external port 0). */
  async unmap (protocol: MappedProtocol, internalPort: number): Promise<void> {
    // Two tries: at stop, a gateway that is gone must not hold the client up for seconds.
    checked(await this.socket.request(encodeMapRequest(protocol, internalPort, 0, 0), answers(protocol, internalPort), 2), this.gateway)
  }

  close (): void {
    this.socket.close()
  }
}

function answers (protocol: MappedProtocol, internalPort: number): (r: PmpReply) => boolean {
  return (r) => r.op === protocol && (r.result !== 0 || r.internalPort === internalPort)
}

function checked (reply: PmpReply, gateway: string): PmpReply {
  if (reply.result !== 0) throw new TrackerlessError('EPORTMAP', `the gateway ${gateway} refused the NAT-PMP request: ${resultText(reply.result)}`)
  return reply
}
