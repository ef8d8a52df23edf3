import net from 'node:net'
import { EventEmitter } from 'node:events'
import type { TestContext } from 'node:test'
import type { PeerStream } from '../../../lib/transport/types.js'
import type { ResponderOptions } from '../../../lib/transport/mse/handshake.js'
import { req2 } from '../../../lib/transport/mse/keys.js'

/** A connected pair of loopback sockets, both closed at the end of the test. */
export async function socketPair (t: TestContext): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve))
  const dialled = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  await new Promise((resolve) => dialled.once('connect', resolve))
  const other = await accepted
  server.close()
  t.after(() => { dialled.destroy(); other.destroy() })
  return [dialled, other]
}

export function responderFor (...hashes: Uint8Array[]): Pick<ResponderOptions, 'findInfoHash'> {
  const byReq2 = new Map(hashes.map((h) => [req2(h).toString('hex'), h]))
  return { findInfoHash: (hash) => byReq2.get(hash.toString('hex')) ?? null }
}

/** A PeerStream that records what is written and can be fed bytes and closed. */
export class FakeStream extends EventEmitter implements PeerStream {
  remoteAddress = '127.0.0.1'
  remotePort = 1
  writableLength = 0
  writableHighWaterMark = 16384
  destroyed = false
  written = 0
  /** Every chunk written, in order. */
  readonly chunks: Buffer[] = []
  write (chunk: Uint8Array): boolean { this.written += chunk.length; this.chunks.push(Buffer.from(chunk)); return true }
  cork (): void {}
  uncork (): void {}
  destroy (): void { if (!this.destroyed) { this.destroyed = true; this.emit('close', false) } }
  resetAndDestroy (): void { this.destroy() }
  setNoDelay (): void {}
}
