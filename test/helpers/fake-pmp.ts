/**
 * A NAT-PMP server (RFC 6886) on 127.0.0.1 for PortMapper and client tests: it grants every
 * mapping at `internal port + shift` for `lifetime` seconds (or refuses with `refuse`), and
 * records every request it gets.
 */
import dgram from 'node:dgram'
import type { TestContext } from 'node:test'

export interface FakePmpOptions {
  externalAddress?: string
  /** Added to the internal port to make the external one, so that a test sees which it got. */
  shift?: number
  lifetime?: number
  /** A result code to answer map requests with instead of success (2: not authorized). */
  refuse?: number
  /** Say nothing: a router without NAT-PMP. */
  silent?: boolean
}

export interface MapRequest { protocol: 'udp' | 'tcp', internalPort: number, externalPort: number, lifetime: number, from: number }

export interface FakePmp {
  port: number
  requests: MapRequest[]
  addressRequests: number
  /** The socket, for sending forged replies from elsewhere. */
  socket: dgram.Socket
}

export async function fakePmp (t: TestContext, opts: FakePmpOptions = {}): Promise<FakePmp> {
  const socket = dgram.createSocket('udp4')
  const state: FakePmp = { port: 0, requests: [], addressRequests: 0, socket }
  const started = Date.now()
  const epoch = (): number => Math.floor((Date.now() - started) / 1000)
  socket.on('message', (msg, from) => {
    if (msg.length < 2 || msg[0] !== 0 || opts.silent === true) return
    if (msg[1] === 0) {
      state.addressRequests++
      const out = Buffer.alloc(12)
      out[1] = 128
      out.writeUInt32BE(epoch(), 4)
      Buffer.from((opts.externalAddress ?? '100.64.0.7').split('.').map(Number)).copy(out, 8)
      socket.send(out, from.port, from.address)
      return
    }
    if ((msg[1] !== 1 && msg[1] !== 2) || msg.length < 12) return
    const request = { protocol: msg[1] === 1 ? 'udp' as const : 'tcp' as const, internalPort: msg.readUInt16BE(4), externalPort: msg.readUInt16BE(6), lifetime: msg.readUInt32BE(8), from: from.port }
    state.requests.push(request)
    const out = Buffer.alloc(16)
    out[1] = 128 + msg[1]
    out.writeUInt16BE(opts.refuse ?? 0, 2)
    out.writeUInt32BE(epoch(), 4)
    out.writeUInt16BE(request.internalPort, 8)
    const deleting = request.lifetime === 0
    out.writeUInt16BE(deleting ? 0 : request.internalPort + (opts.shift ?? 0), 10)
    out.writeUInt32BE(deleting ? 0 : opts.lifetime ?? request.lifetime, 12)
    socket.send(out, from.port, from.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  state.port = socket.address().port
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  return state
}
