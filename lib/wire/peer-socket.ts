import type { Transport } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import { Wire, type WireOptions } from './wire.js'

/** Connects to a peer over `transport` and returns its Wire, which reads each chunk as it comes
 *  (TCP: from the shared read buffer). */
export function dialWire (transport: Transport, host: string, port: number, options: WireOptions & { connectTimeout?: number }): Wire {
  let wire: Wire | null = null
  const { connectTimeout, ...wireOptions } = options
  const stream = transport.dial(host, port, {
    onData: (chunk) => wire?.receive(chunk),
    ...(connectTimeout !== undefined ? { timeout: connectTimeout } : {})
  })
  wire = new Wire(stream, { ...wireOptions, transport: transport.name })
  return wire
}

/** How a swarm dials a peer: over TCP by default; the client may pass one that tries uTP too. */
export type PeerDialer = (host: string, port: number, options: WireOptions & { connectTimeout?: number }) => Wire

const tcp = new TcpTransport()

/** Dials over TCP (dialling uses no listening state, so one transport serves every swarm). */
export const dialTcp: PeerDialer = (host, port, options) => dialWire(tcp, host, port, options)
