import dgram from 'node:dgram'
import { TrackerlessError } from '../errors.js'
import { PMP_PORT, decodeReply, encodeAddressRequest, encodeMapRequest, resultText, type MappedProtocol, type PmpReply } from './pmp-packet.js'

/** RFC 6886 §3.1: the first retry after 250 ms, each wait twice the one before. */
const FIRST_WAIT = 250
/**
 * RFC 6886 retries 9 times (64 s); a gateway that has not answered 4 (3.75 s) is taken to speak
 * no NAT-PMP, so that a client on a network without it says so soon. Renewal tries again later.
 */
const TRIES = 4

export interface PmpMapping {
  protocol: MappedProtocol
  internalPort: number
  externalPort: number
  /** Seconds the gateway grants. */
  lifetime: number
}

/**
 * A NAT-PMP client for one gateway: one request at a time, over one UDP socket connected to the
 * gateway's port 5351, so that the kernel drops datagrams from anyone else.
 */
export class PmpClient {
  private readonly socket: dgram.Socket
  private readonly ready: Promise<void>
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private listener: ((reply: PmpReply) => void) | null = null
  private abort: (() => void) | null = null

  constructor (readonly gateway: string, private readonly port = PMP_PORT) {
    this.socket = dgram.createSocket('udp4')
    this.socket.on('error', () => {})
    this.socket.on('message', (msg) => {
      const reply = decodeReply(msg)
      if (reply !== null) this.listener?.(reply)
    })
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('error', reject)
      this.socket.connect(port, gateway, () => { this.socket.off('error', reject); resolve() })
    })
    this.ready.catch(() => {})
  }

  /** The gateway's external IPv4 address. */
  async externalAddress (): Promise<string> {
    const reply = await this.request(encodeAddressRequest(), (r) => r.op === 'address')
    if (reply.op !== 'address') throw new Error('unreachable')
    return reply.address
  }

  /** Maps `internalPort` for `lifetime` seconds, asking for `externalPort` (the gateway may give another). */
  async map (protocol: MappedProtocol, internalPort: number, externalPort: number, lifetime: number): Promise<PmpMapping> {
    const reply = await this.request(encodeMapRequest(protocol, internalPort, externalPort, lifetime),
      (r) => r.op === protocol && (r.result !== 0 || r.internalPort === internalPort))
    if (reply.op === 'address') throw new Error('unreachable')
    return { protocol, internalPort, externalPort: reply.externalPort, lifetime: reply.lifetime }
  }

  /** Deletes our mapping of `internalPort` (RFC 6886 §3.4: lifetime 0, external port 0). */
  async unmap (protocol: MappedProtocol, internalPort: number): Promise<void> {
    // Two tries: at stop, a gateway that is gone must not hold the client up for seconds.
    await this.request(encodeMapRequest(protocol, internalPort, 0, 0), (r) => r.op === protocol && (r.result !== 0 || r.internalPort === internalPort), 2)
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.abort?.()
    this.socket.close()
  }

  private request (message: Buffer, matches: (r: PmpReply) => boolean, tries = TRIES): Promise<PmpReply> {
    const next = this.queue.then(() => this.exchange(message, matches, tries))
    this.queue = next.catch(() => {})
    return next
  }

  private async exchange (message: Buffer, matches: (r: PmpReply) => boolean, maxTries: number): Promise<PmpReply> {
    await this.ready
    if (this.closed) throw new TrackerlessError('ECLOSED', 'the port mapper was stopped')
    return await new Promise<PmpReply>((resolve, reject) => {
      let tries = 0
      let timer: NodeJS.Timeout | undefined
      const done = (): void => { clearTimeout(timer); this.listener = null; this.abort = null }
      this.abort = () => { done(); reject(new TrackerlessError('ECLOSED', 'the port mapper was stopped')) }
      this.listener = (reply) => {
        if (!matches(reply)) return
        done()
        if (reply.result !== 0) reject(new TrackerlessError('EPORTMAP', `the gateway ${this.gateway} refused the NAT-PMP request: ${resultText(reply.result)}`))
        else resolve(reply)
      }
      const send = (): void => {
        if (tries === maxTries) {
          done()
          reject(new TrackerlessError('ETIMEDOUT', `the gateway ${this.gateway} did not answer NAT-PMP on UDP port ${this.port} (${maxTries} tries)`))
          return
        }
        this.socket.send(message, () => {})
        timer = setTimeout(send, FIRST_WAIT * 2 ** tries++)
      }
      send()
    })
  }
}
