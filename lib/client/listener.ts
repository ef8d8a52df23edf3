import { Wire } from '../wire/wire.js'
import type { PeerStream, Transport } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import type { Handshake } from '../wire/handshake.js'
import type { PeerId } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { formatAddress } from '../discovery/address.js'
import { DEFAULT_LIMITS, type PeerLimits } from '../swarm/connection-slots.js'

/** Ports the system picks (port 0) before giving up when the other transports find it taken. */
const PICK_ATTEMPTS = 5

/**
 * The one listening port of a client, on each of its transports (TCP; uTP), shared by all its
 * torrents: an incoming connection is handed to the torrent its handshake names, or closed.
 *
 * Connections that have not yet sent their handshake ("half-open") are few and short-lived,
 * whatever transport carries them: each has `handshakeTimeout` ms, and past `maxHalfOpen` the
 * oldest is closed for the newcomer. Refusing the newcomer instead, a flood of sockets reopened
 * as they time out kept every honest peer out.
 */
export class Listener {
  private readonly transports: Transport[]
  /** Half-open connections, oldest first. */
  private readonly wires = new Set<Wire>()
  private readonly onConnection: (transport: Transport, stream: PeerStream) => void

  constructor (peerId: PeerId, route: (wire: Wire, hs: Handshake) => boolean, limits: PeerLimits = {}, transports: Transport[] = [new TcpTransport()]) {
    this.transports = transports
    const maxHalfOpen = limits.maxHalfOpen ?? DEFAULT_LIMITS.maxHalfOpen
    const handshakeTimeout = limits.handshakeTimeout ?? DEFAULT_LIMITS.handshakeTimeout
    this.onConnection = (transport, stream) => {
      if (this.wires.size >= maxHalfOpen) this.closeOldest(limits)
      const wire = new Wire(stream, { peerId, handshakeTimeout, transport: transport.name })
      this.wires.add(wire)
      wire.once('close', (err) => {
        if (!this.wires.delete(wire)) return
        if (err instanceof TrackerlessError && err.code === 'ETIMEDOUT') limits.onDrop?.(addressOf(wire), err)
      })
      wire.once('handshake', (hs) => {
        this.wires.delete(wire)
        if (!route(wire, hs)) wire.destroy()
      })
    }
  }

  /** Listens on every transport; resolves to the port of the first (the others take the same one
   *  once it is known, so that peers reach us on one port whatever they speak). */
  async listen (port: number, host?: string): Promise<number> {
    // A port the system picked for the first transport may be taken on another (UDP): pick again.
    for (let attempt = 1; ; attempt++) {
      let bound = port
      try {
        for (const transport of this.transports) {
          bound = await transport.listen(bound, host, (stream) => this.onConnection(transport, stream))
        }
        return bound
      } catch (err) {
        // One transport could not take the port (UDP taken, TCP free): none keeps it.
        await this.close()
        if (port !== 0 || attempt >= PICK_ATTEMPTS || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      }
    }
  }

  async close (): Promise<void> {
    for (const wire of this.wires) wire.destroy()
    await Promise.all(this.transports.map((transport) => transport.close()))
  }

  private closeOldest (limits: PeerLimits): void {
    const oldest = this.wires.values().next()
    if (oldest.done === true) return
    const wire = oldest.value
    this.wires.delete(wire)
    const reason = new TrackerlessError('EBUSY', `the peer at ${addressOf(wire)} had not sent its handshake when ${this.wires.size + 1} newer connections waited; closed it to make room`)
    wire.destroy(reason)
    limits.onDrop?.(addressOf(wire), reason)
  }
}

function addressOf (wire: Wire): string {
  return formatAddress(wire.remoteAddress ?? '?', wire.remotePort ?? 0)
}
