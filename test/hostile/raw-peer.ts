/**
 * Scripted peers for the hostile suite: raw TCP on 127.0.0.1 speaking our codec (or any bytes),
 * with no Swarm behind them, so a test says exactly what the peer does wrong. Also the honest
 * half of every scenario: a seeder and a leecher on loopback, and the torrent they share.
 */
import net from 'node:net'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import { Torrent, type TorrentOptions } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { asPeerId, type InfoHash, type PeerId } from '../../lib/util/ids.js'
import { encodeMessage, FrameParser, type Frame } from '../../lib/wire/codec.js'
import { decodeExtendedHandshake, encodeExtendedHandshake } from '../../lib/wire/extended.js'
import { encodeHandshake, type Handshake } from '../../lib/wire/handshake.js'
import type { ExtendedHandshake, Message } from '../../lib/wire/messages.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { copyFrame } from '../helpers/frames.js'

export const MiB = 1024 * 1024
/** Our own ids for the extensions the scripted peer speaks (any will do, they are per direction). */
export const RAW_EXTENSIONS = { ut_metadata: 3 } as const

export interface RawPeerOptions {
  infoHash: InfoHash
  peerId?: PeerId
  /** BEP10 and BEP6 bits in our handshake (default both on). */
  extended?: boolean
  fast?: boolean
  /** BEP52 v2 bit (default off). */
  v2?: boolean
}

/** One scripted connection. Frames the other side sends are parsed (and their buffers copied). */
export class RawPeer {
  readonly socket: net.Socket
  readonly peerId: PeerId
  /** The other side's handshake, once it came. */
  handshake: Handshake | null = null
  /** The other side's BEP10 handshake, once it came. */
  extensions: ExtendedHandshake | null = null
  closed = false
  private readonly parser = new FrameParser()
  private readonly listeners = new Set<(frame: Frame) => void>()
  private readonly whenClosed: Promise<void>

  constructor (socket: net.Socket, opts: RawPeerOptions) {
    this.socket = socket
    this.peerId = opts.peerId ?? asPeerId(Buffer.concat([Buffer.from('-XX0000-'), randomBytes(12)]))
    this.whenClosed = new Promise((resolve) => socket.once('close', () => { this.closed = true; resolve() }))
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const frame of this.parser.push(chunk)) this.dispatch(copyFrame(frame))
      } catch {
        socket.destroy()
      }
    })
    socket.write(encodeHandshake({ infoHash: opts.infoHash, peerId: this.peerId, extended: opts.extended ?? true, fast: opts.fast ?? true, dht: false, v2: opts.v2 === true }))
  }

  /** Connects to `port` and sends our handshake, without waiting for anything. */
  static connect (port: number, opts: RawPeerOptions): RawPeer {
    return new RawPeer(net.connect({ host: '127.0.0.1', port }), opts)
  }

  /** Connects to `port` and waits for the answering handshake; retries while the other side
   *  closes at once (its torrent may not be registered yet), `attempts` times at most. */
  static async dial (port: number, opts: RawPeerOptions, attempts = 50): Promise<RawPeer> {
    for (let i = 0; i < attempts; i++) {
      const peer = RawPeer.connect(port, opts)
      const answered = await Promise.race([
        peer.next((f) => f.type === 'handshake', 5_000).then(() => true, () => false),
        peer.whenClosed.then(() => false)
      ])
      if (answered) return peer
      peer.destroy()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`no handshake from 127.0.0.1:${port} in ${attempts} attempts`)
  }

  /** Calls `fn` for every frame from now on. */
  onFrame (fn: (frame: Frame) => void): void {
    this.listeners.add(fn)
  }

  /** The next frame matching `match`, or a rejection after `ms` or when the connection closes. */
  next (match: (frame: Frame) => boolean, ms = 30_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const done = (err: Error | null, frame?: Frame): void => {
        clearTimeout(timer)
        this.listeners.delete(listener)
        this.socket.off('close', onClose)
        if (err === null) resolve(frame!)
        else reject(err)
      }
      const listener = (frame: Frame): void => { if (match(frame)) done(null, frame) }
      const onClose = (): void => done(new Error('the connection closed before the frame came'))
      const timer = setTimeout(() => done(new Error(`no matching frame within ${ms} ms`)), ms)
      this.listeners.add(listener)
      this.socket.once('close', onClose)
    })
  }

  send (msg: Message): boolean {
    return this.sendRaw(encodeMessage(msg))
  }

  sendRaw (bytes: Uint8Array): boolean {
    if (this.closed) return false
    return this.socket.write(bytes)
  }

  /** Our BEP10 handshake; `fields` may carry anything, even values our own encoder would not write. */
  sendExtendedHandshake (fields: Omit<ExtendedHandshake, 'm'> = {}): void {
    this.send({ type: 'extended', id: 0, payload: encodeExtendedHandshake({ m: { ...RAW_EXTENSIONS }, ...fields }) })
  }

  /** An extension message under the id the other side asked for. */
  sendExtended (name: keyof typeof RAW_EXTENSIONS, payload: Buffer): boolean {
    const id = this.extensions?.m[name]
    if (id === undefined) throw new Error(`the other side did not announce ${name}`)
    return this.send({ type: 'extended', id, payload })
  }

  /** Resolves when the other side (or we) closed the connection, rejects after `ms`. */
  waitClosed (ms = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the connection was still open after ${ms} ms`)), ms)
    })
    return Promise.race([this.whenClosed, timeout]).finally(() => clearTimeout(timer))
  }

  destroy (): void {
    this.socket.destroy()
  }

  private dispatch (frame: Frame): void {
    if (frame.type === 'handshake') this.handshake = frame.handshake
    if (frame.type === 'extended' && frame.id === 0) {
      this.extensions = decodeExtensions(frame.payload)
    }
    for (const fn of [...this.listeners]) fn(frame)
  }
}

function decodeExtensions (payload: Buffer): ExtendedHandshake | null {
  try {
    return decodeExtendedHandshake(payload)
  } catch {
    return null
  }
}

/**
 * A peer that dials `port` on `infoHash`, claims every piece, unchokes and answers every request
 * with random bytes; resolves once the client has hung up on it, with its address as the client
 * names it and how many blocks it was asked for.
 */
export async function lyingSeed (port: number, infoHash: InfoHash): Promise<{ liar: RawPeer, address: string, served: number }> {
  const liar = await RawPeer.dial(port, { infoHash })
  const address = `127.0.0.1:${liar.socket.localPort!}`
  let served = 0
  liar.onFrame((f) => {
    if (f.type !== 'request') return
    served++
    liar.send({ type: 'piece', index: f.index, begin: f.begin, block: randomBytes(f.length) })
  })
  liar.send({ type: 'have-all' })
  liar.send({ type: 'unchoke' })
  await liar.waitClosed()
  return { liar, address, served }
}

/** A port nothing listens on now, for a peer that the test starts later. */
export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A TCP server on 127.0.0.1 whose connections `onConnection` scripts; closed after the test. */
export async function rawServer (t: TestContext, onConnection: (socket: net.Socket) => void): Promise<{ port: number, address: string, sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
    // Reading (and discarding, unless onConnection listens) is how the end of the connection is seen.
    socket.resume()
    onConnection(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  const port = (server.address() as net.AddressInfo).port
  return { port, address: `127.0.0.1:${port}`, sockets }
}

export interface Scene {
  seeder: Torrent
  leecher: Torrent
  magnet: string
  meta: Metainfo
  /** The file's bytes, for comparing the download. */
  file: string
  seederAddress: string
}

/** A seeder of `size` random bytes and a leecher (memory storage), both started; stopped after the
 *  test. `seederOptions` and `leecherOptions` are added to each one's. */
export async function scene (t: TestContext, size = 4 * MiB, seederOptions: TorrentOptions = {}, leecherOptions: TorrentOptions = {}): Promise<Scene> {
  const dir = await tmpDir(t, 'tl-hostile-')
  const file = path.join(dir, 'data.bin')
  await writeRandomFile(file, size)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', ...seederOptions })
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', ...leecherOptions })
  t.after(() => Promise.all([seeder.stop(), leecher.stop()]))
  await Promise.all([seeder.start(), leecher.start()])
  const magnet = await seeder.seed(file)
  const meta = await buildMetainfo(await readTree(file), directoryStorage(dir))
  return { seeder, leecher, magnet, meta, file, seederAddress: `127.0.0.1:${seeder.port}` }
}
