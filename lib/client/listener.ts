import { Wire } from '../wire/wire.js'
import type { PeerStream, Transport } from '../transport/types.js'
import { TcpTransport } from '../transport/tcp.js'
import type { Handshake } from '../wire/handshake.js'
import type { PeerId } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { formatAddress } from '../discovery/address.js'
import { DEFAULT_LIMITS, type PeerLimits } from '../swarm/connection-slots.js'
import { acceptIncoming, type IncomingOptions } from '../transport/mse/policy.js'

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
 *
 * Unless encryption is 'disable', a connection's first bytes say whether it is plain text (the
 * BitTorrent handshake) or MSE/PE; either way it counts as half-open until its handshake.
 */
export class Listener {
  private readonly transports: Transport[]
  /** Half-open connections, oldest first. */
  private readonly wires = new Set<Wire>()
  /** Connections still in their first bytes or MSE handshake, oldest first. */
  private readonly sniffing = new Set<PeerStream>()
  private readonly onConnection: (transport: Transport, stream: PeerStream) => void

  constructor (peerId: PeerId, route: (wire: Wire, hs: Handshake) => boolean, limits: PeerLimits = {}, transports: Transport[] = [new TcpTransport()], encryption?: Omit<IncomingOptions, 'timeout'>) {
    this.transports = transports
    const maxHalfOpen = limits.maxHalfOpen ?? DEFAULT_LIMITS.maxHalfOpen
    const handshakeTimeout = limits.handshakeTimeout ?? DEFAULT_LIMITS.handshakeTimeout
    const admit = (wire: Wire): void => {
      if (this.wires.size + this.sniffing.size >= maxHalfOpen) this.closeOldest(limits)
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
    this.onConnection = (transport, stream) => {
      const options = { peerId, handshakeTimeout, transport: transport.name }
      if (encryption === undefined || encryption.policy === 'disable') {
        admit(new Wire(stream, options))
        return
      }
      if (this.wires.size + this.sniffing.size >= maxHalfOpen) this.closeOldest(limits)
      this.sniffing.add(stream)
      const address = formatAddress(stream.remoteAddress ?? '?', stream.remotePort ?? 0)
      // A reset between the handshake's listeners and the Wire's must not end the process.
      stream.on('error', () => {})
      acceptIncoming(stream, { ...encryption, timeout: handshakeTimeout }).then((incoming) => {
        if (!this.sniffing.delete(stream)) { stream.destroy(); return }
        const wire = new Wire(incoming.stream, options)
        admit(wire)
        // Plain text: the bytes sniffed are the start of the BitTorrent handshake.
        if (incoming.head !== null) wire.receive(incoming.head)
      }, (err: Error) => {
        if (this.sniffing.delete(stream) && err instanceof TrackerlessError && err.code === 'ETIMEDOUT') limits.onDrop?.(address, err)
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
    for (const stream of this.sniffing) stream.destroy()
    this.sniffing.clear()
    await Promise.all(this.transports.map((transport) => transport.close()))
  }

  private closeOldest (limits: PeerLimits): void {
    // A connection still in its first bytes or encryption handshake is the least advanced.
    const sniffing = this.sniffing.values().next()
    if (sniffing.done !== true) {
      const stream = sniffing.value
      this.sniffing.delete(stream)
      const address = formatAddress(stream.remoteAddress ?? '?', stream.remotePort ?? 0)
      stream.destroy()
      limits.onDrop?.(address, new TrackerlessError('EBUSY', `the peer at ${address} had not sent its handshake when ${this.wires.size + this.sniffing.size + 1} newer connections waited; closed it to make room`))
      return
    }
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
