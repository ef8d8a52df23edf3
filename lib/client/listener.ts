import net from 'node:net'
import type { Wire } from '../wire/wire.js'
import { acceptWire } from '../wire/peer-socket.js'
import type { Handshake } from '../wire/handshake.js'
import type { PeerId } from '../util/ids.js'

/** Connections that have not yet sent a handshake; more are closed at once (a connection flood
 *  would otherwise hold a socket and a timer each until the handshake timeout). */
const MAX_PENDING = 128

/**
 * The one TCP port of a client, shared by all its torrents: an incoming connection is handed to
 * the torrent its handshake names, or closed.
 */
export class Listener {
  private readonly server: net.Server
  private readonly wires = new Set<Wire>()

  constructor (peerId: PeerId, route: (wire: Wire, hs: Handshake) => boolean) {
    // Paused, so that acceptWire can give the connection a socket that reads into the shared buffer.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => {
      if (this.wires.size >= MAX_PENDING) {
        socket.destroy()
        return
      }
      const wire = acceptWire(socket, { peerId })
      this.wires.add(wire)
      wire.once('close', () => this.wires.delete(wire))
      wire.once('handshake', (hs) => {
        this.wires.delete(wire)
        if (!route(wire, hs)) wire.destroy()
      })
    })
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
    if (!this.server.listening) return
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
