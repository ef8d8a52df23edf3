import { randomBytes } from 'node:crypto'
import bencode from 'bencode'
import { decodeBounded, isDict } from '../metainfo/bencode.js'
import type { CachedNode } from './node-cache.js'
import { familySocket, type DhtFamily } from './dht-family.js'

/** A KRPC reply to a ping is about 50 bytes. */
const MAX_REPLY = 1024

/**
 * Pings `nodes` (KRPC, BEP5) all at once from a throwaway UDP socket and hands each one that
 * answers within `opts.timeout` ms to `onAlive`, with the id it answered with; resolves when all
 * answered, the time is up or `opts.signal` aborts, the socket closed.
 *
 * Why a socket of its own: nodes cached by a last run are often gone, and bittorrent-dht treats
 * a node in its routing table as live until a query to it times out. Each dead one would hold one
 * of its 16 query slots for 2 s, so a cache of dead nodes stalls every lookup for rounds of 2 s,
 * and hides the bootstrap nodes (queried only when the table has fewer nodes than the list).
 * Only nodes that answer here enter the table. The query carries a random id and BEP43's `ro`
 * so that no node adds this short-lived port to its own table.
 */
export function probeNodes (nodes: readonly CachedNode[], opts: { timeout: number, host?: string, signal?: AbortSignal, family?: DhtFamily }, onAlive: (node: CachedNode) => void): Promise<void> {
  if (nodes.length === 0 || opts.signal?.aborted === true) return Promise.resolve()
  return new Promise((resolve) => {
    const socket = familySocket(opts.family ?? 4)
    const waiting = new Map<string, number>()
    const id = randomBytes(20)
    let timer: NodeJS.Timeout | null = null
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      if (timer !== null) clearTimeout(timer)
      opts.signal?.removeEventListener('abort', finish)
      socket.close()
      resolve()
    }
    socket.on('error', finish)
    opts.signal?.addEventListener('abort', finish)
    socket.on('message', (bytes, from) => {
      const key = `${from.address}:${from.port}`
      const index = waiting.get(key)
      if (index === undefined || bytes.length > MAX_REPLY) return
      const answerId = replyId(bytes, index)
      if (answerId === null) return
      waiting.delete(key)
      onAlive({ id: answerId, host: from.address, port: from.port })
      if (waiting.size === 0) finish()
    })
    socket.bind(0, opts.host, () => {
      timer = setTimeout(finish, opts.timeout)
      nodes.forEach((node, index) => {
        waiting.set(`${node.host}:${node.port}`, index)
        socket.send(ping(id, index), node.port, node.host)
      })
    })
  })
}

function ping (id: Buffer, index: number): Buffer {
  const t = Buffer.alloc(2)
  t.writeUInt16BE(index)
  return Buffer.from(bencode.encode({ t, y: 'q', q: 'ping', a: { id }, ro: 1 }))
}

/** The answering node's id, if `bytes` is a KRPC reply to our query number `index`. */
function replyId (bytes: Buffer, index: number): Buffer | null {
  let msg
  try {
    msg = decodeBounded(bytes, { maxBytes: MAX_REPLY, maxDepth: 4, code: 'EPROTO' })
  } catch {
    return null
  }
  if (!isDict(msg) || !isDict(msg.r)) return null
  const { t } = msg
  const { id } = msg.r
  if (!(t instanceof Uint8Array) || t.length !== 2 || t[0]! * 256 + t[1]! !== index) return null
  return id instanceof Uint8Array && id.length === 20 ? Buffer.from(id) : null
}
