import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import bencode, { type EncodableValue } from 'bencode'

/** A raw KRPC endpoint on one loopback address: sends what a hostile or test node would. */
export interface KrpcSocket {
  socket: dgram.Socket
  port: number
  /** Sends `message` (bencoded) to `port` on 127.0.0.1 (::1 from an IPv6 `host`) without waiting. */
  send: (port: number, message: Record<string, unknown>) => void
  /** Sends query `q` and resolves with the reply's `r` (or `e`), or null after `ms`. */
  query: (port: number, q: string, a: Record<string, unknown>, ms?: number) => Promise<Record<string, unknown> | null>
  /** Replies received so far, any transaction, and the last one whole. */
  replies: number
  last: Record<string, unknown> | null
  close: () => Promise<void>
}

/**
 * A KRPC socket bound to `host`; `answer` gives the reply (without `t`) to each query it
 * receives, or null for none.
 */
export async function krpcSocket (host = '127.0.0.1', answer: (query: Record<string, unknown>) => Record<string, unknown> | null = () => null): Promise<KrpcSocket> {
  const v6 = host.includes(':')
  const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4')
  await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()))
  const waiting = new Map<string, (r: Record<string, unknown>) => void>()
  const self: KrpcSocket = {
    socket,
    port: socket.address().port,
    replies: 0,
    last: null,
    send (port, message) {
      socket.send(bencode.encode(message as EncodableValue), port, v6 ? '::1' : '127.0.0.1')
    },
    async query (port, q, a, ms = 2000) {
      const t = randomBytes(2)
      const reply = new Promise<Record<string, unknown> | null>((resolve) => {
        const timer = setTimeout(() => { waiting.delete(t.toString('hex')); resolve(null) }, ms)
        waiting.set(t.toString('hex'), (r) => { clearTimeout(timer); resolve(r) })
      })
      self.send(port, { t, y: 'q', q, a })
      return reply
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve()))
  }
  socket.on('message', (buf, from) => {
    let message: Record<string, unknown>
    try {
      message = bencode.decode(buf) as Record<string, unknown>
    } catch {
      return
    }
    if (message.y instanceof Uint8Array && Buffer.from(message.y).toString() === 'q') {
      const reply = answer(message)
      if (reply !== null) socket.send(bencode.encode({ ...reply, t: message.t } as EncodableValue), from.port, from.address)
      return
    }
    self.replies++
    self.last = message
    const t = message.t instanceof Uint8Array ? Buffer.from(message.t).toString('hex') : ''
    const done = waiting.get(t)
    waiting.delete(t)
    done?.((message.r ?? message.e) as Record<string, unknown>)
  })
  return self
}
