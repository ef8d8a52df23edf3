import net from 'node:net'
import { TrackerlessError } from '../errors.js'
import type { PeerStream, Transport, TransportDialOptions } from './types.js'

/** Bytes read from a peer at a time. */
const READ_BUFFER = 1024 * 1024
let shared: Buffer | null = null

/**
 * Every TCP peer socket of the process reads into one buffer, through node's `onread`. With plain
 * 'data' events node reads 64 KiB at a time into a new buffer, which a download at hundreds of
 * MB/s leaves for the garbage collector by the ten thousand, through the stream machinery, and
 * which splits more frames across reads. Sharing is safe: node runs each read's callback to its
 * end before the next read, and the Wire parses a read before it returns (see bench/README.md
 * for what it saves).
 */
function readIntoShared (onData: (chunk: Buffer) => void): net.OnReadOpts {
  const buffer = shared ??= Buffer.allocUnsafe(READ_BUFFER)
  return {
    buffer,
    callback: (length) => {
      onData(buffer.subarray(0, length))
      return true
    }
  }
}

/**
 * Peer connections over TCP. A dialled stream given `onData` and every accepted stream read into
 * the process's shared buffer: an accepted stream emits 'data' with a view of it, valid only until
 * its listeners return (the Wire parses it at once and keeps nothing).
 */
export class TcpTransport implements Transport {
  readonly name = 'tcp' as const
  private server: net.Server | null = null
  private readonly accepted = new Set<net.Socket>()

  dial (host: string, port: number, options: TransportDialOptions = {}): PeerStream {
    const onData = options.onData
    const socket = onData === undefined ? net.connect({ host, port }) : net.connect({ host, port, onread: readIntoShared(onData) })
    const timeout = options.timeout
    if (timeout !== undefined) {
      socket.setTimeout(timeout, () => socket.destroy(new TrackerlessError('ETIMEDOUT', `${host}:${port} did not accept a TCP connection within ${timeout} ms`)))
      socket.once('connect', () => socket.setTimeout(0))
    }
    return socket
  }

  /**
   * The server is paused on connect so that nothing has been read yet: node offers `onread` only
   * to sockets it constructs, so the accepted socket's handle (`_handle`: undocumented, but what
   * node's own server, cluster and child_process hand between sockets) moves to a new Socket that
   * reads into the shared buffer, and the emptied one is destroyed, which leaves the connection open.
   */
  listen (port: number, host: string | undefined, onConnection: (stream: PeerStream) => void): Promise<number> {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      const held = socket as unknown as { _handle: object | null }
      const handle = held._handle
      held._handle = null
      socket.destroy()
      let adopted: net.Socket | null = null
      const adopt: AdoptOptions = { handle, onread: readIntoShared((chunk) => adopted?.emit('data', chunk)) }
      adopted = new net.Socket(adopt)
      this.accepted.add(adopted)
      adopted.once('close', () => this.accepted.delete(adopted!))
      onConnection(adopted)
    })
    this.server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port, host }, () => {
        server.off('error', reject)
        // Out of file descriptors (EMFILE) on accept is an 'error' too: the server keeps
        // listening, and an unheard 'error' would end the process.
        server.on('error', () => {})
        resolve((server.address() as net.AddressInfo).port)
      })
    })
  }

  async close (): Promise<void> {
    const server = this.server
    this.server = null
    for (const socket of this.accepted) socket.destroy()
    if (server === null || !server.listening) return
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** What node's Socket constructor takes beyond its typings: a handle to adopt, and `onread`,
 *  which @types/node lists only for connect(). */
type AdoptOptions = net.SocketConstructorOpts & { handle: object | null, onread: net.OnReadOpts }
