import net from 'node:net'
import { acceptWire } from '../wire/peer-socket.js'
import type { Handshake } from '../wire/handshake.js'
import type { PeerId } from '../util/ids.js'
import { TrackerlessError } from '../errors.js'
import { formatAddress } from '../discovery/address.js'
import { DEFAULT_LIMITS, type PeerLimits } from '../swarm/connection-slots.js'
import { Wire } from '../wire/wire.js'
import { acceptIncoming, type IncomingOptions } from '../transport/mse/policy.js'

/**
 * The one TCP port of a client, shared by all its torrents: an incoming connection is handed to
 * the torrent its handshake names, or closed.
 *
 * Connections that have not yet sent their handshake ("half-open") are few and short-lived: each
 * has `handshakeTimeout` ms, and past `maxHalfOpen` the oldest is closed for the newcomer. Refusing
 * the newcomer instead, a flood of sockets reopened as they time out kept every honest peer out.
 */
export class Listener {
  private readonly server: net.Server
  /** Half-open connections, oldest first. */
  private readonly wires = new Set<Wire>()

  /** Connections still in their first bytes or MSE handshake (encryption not 'disable'). */
  private readonly sniffing = new Set<net.Socket>()

  constructor (peerId: PeerId, route: (wire: Wire, hs: Handshake) => boolean, limits: PeerLimits = {}, encryption?: Omit<IncomingOptions, 'timeout'>) {
    const maxHalfOpen = limits.maxHalfOpen ?? DEFAULT_LIMITS.maxHalfOpen
    const handshakeTimeout = limits.handshakeTimeout ?? DEFAULT_LIMITS.handshakeTimeout
    // Paused, so that acceptWire can give the connection a socket that reads into the shared buffer.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (encryption !== undefined && encryption.policy !== 'disable') {
        if (this.wires.size + this.sniffing.size >= maxHalfOpen) this.closeOldest(limits)
        this.sniffing.add(socket)
        const address = formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
        // A reset between the handshake's listeners and the Wire's must not end the process.
        socket.on('error', () => {})
        socket.resume()
        acceptIncoming(socket, { ...encryption, timeout: handshakeTimeout }).then((stream) => {
          if (!this.sniffing.delete(socket)) { socket.destroy(); return }
          admit(new Wire(stream, { peerId, handshakeTimeout }))
        }, (err: Error) => { if (this.sniffing.delete(socket) && err instanceof TrackerlessError && err.code === 'ETIMEDOUT') limits.onDrop?.(address, err) })
        return
      }
      admit(acceptWire(socket, { peerId, handshakeTimeout }))
    })
    const admit = (wire: Wire): void => {
      if (this.wires.size >= maxHalfOpen) this.closeOldest(limits)
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

  listen (port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen({ port, host }, () => {
        this.server.off('error', reject)
        // Out of file descriptors (EMFILE) on accept is an 'error' too: the server keeps
        // listening, and an unheard 'error' would end the process.
        this.server.on('error', () => {})
        resolve((this.server.address() as net.AddressInfo).port)
      })
    })
  }

  async close (): Promise<void> {
    for (const wire of this.wires) wire.destroy()
    for (const socket of this.sniffing) socket.destroy()
    if (!this.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private closeOldest (limits: PeerLimits): void {
    // A connection still in its first bytes or encryption handshake is the least advanced.
    const sniffing = this.sniffing.values().next()
    if (sniffing.done !== true) {
      const socket = sniffing.value
      this.sniffing.delete(socket)
      const address = formatAddress(socket.remoteAddress ?? '?', socket.remotePort ?? 0)
      const reason = new TrackerlessError('EBUSY', `the peer at ${address} had not sent its handshake when ${this.wires.size + this.sniffing.size + 1} newer connections waited; closed it to make room`)
      socket.destroy()
      limits.onDrop?.(address, reason)
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
