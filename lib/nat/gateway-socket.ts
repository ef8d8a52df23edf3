import dgram from 'node:dgram'
import { TrackerlessError } from '../errors.js'

/** RFC 6886 §3.1 and RFC 6887 §8.1.1: the first retry after 250 ms, each wait twice the one before. */
const FIRST_WAIT = 250
/**
 * The RFCs retry for a minute; a gateway that has not answered 4 tries (3.75 s) is taken to speak
 * no such protocol, so that a client on a network without it says so soon. Renewal tries again later.
 */
export const TRIES = 4

/**
 * One UDP socket connected to a gateway's port (5351 for NAT-PMP and PCP), so that the kernel drops
 * datagrams from anyone else, and one request at a time on it, retried until its answer comes.
 * `decode` turns untrusted bytes into an answer or null.
 */
export class GatewaySocket<Reply> {
  private readonly socket: dgram.Socket
  private readonly ready: Promise<void>
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  private listener: ((reply: Reply) => void) | null = null
  private abort: (() => void) | null = null

  constructor (readonly gateway: string, readonly port: number, private readonly protocol: string, decode: (bytes: Buffer) => Reply | null) {
    this.socket = dgram.createSocket('udp4')
    this.socket.on('error', () => {})
    this.socket.on('message', (msg) => {
      const reply = decode(msg)
      if (reply !== null) this.listener?.(reply)
    })
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('error', reject)
      this.socket.connect(port, gateway, () => { this.socket.off('error', reject); resolve() })
    })
    this.ready.catch(() => {})
  }

  /** Our address on the way to the gateway (PCP requests carry it). */
  async localAddress (): Promise<string> {
    await this.ready
    return this.socket.address().address
  }

  /** Sends `message` until an answer that `matches` comes (resolve) or `tries` go unanswered (ETIMEDOUT). */
  request (message: Buffer, matches: (r: Reply) => boolean, tries = TRIES): Promise<Reply> {
    const next = this.queue.then(() => this.exchange(message, matches, tries))
    this.queue = next.catch(() => {})
    return next
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.abort?.()
    this.socket.close()
  }

  private async exchange (message: Buffer, matches: (r: Reply) => boolean, maxTries: number): Promise<Reply> {
    await this.ready
    if (this.closed) throw new TrackerlessError('ECLOSED', 'the port mapper was stopped')
    return await new Promise<Reply>((resolve, reject) => {
      let tries = 0
      let timer: NodeJS.Timeout | undefined
      const done = (): void => { clearTimeout(timer); this.listener = null; this.abort = null }
      this.abort = () => { done(); reject(new TrackerlessError('ECLOSED', 'the port mapper was stopped')) }
      this.listener = (reply) => {
        if (!matches(reply)) return
        done()
        resolve(reply)
      }
      const send = (): void => {
        if (tries === maxTries) {
          done()
          reject(new TrackerlessError('ETIMEDOUT', `the gateway ${this.gateway} did not answer ${this.protocol} on UDP port ${this.port} (${maxTries} tries)`))
          return
        }
        this.socket.send(message, () => {})
        timer = setTimeout(send, FIRST_WAIT * 2 ** tries++)
      }
      send()
    })
  }
}
