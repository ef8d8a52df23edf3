import { EventEmitter } from 'node:events'
import type { PeerStream } from '../types.js'
import type { Rc4 } from './rc4.js'

/**
 * A PeerStream over the connection an MSE handshake ran on: what goes out is encrypted, what
 * comes in decrypted, when RC4 was selected; with plain text it only hands over first the bytes
 * the handshake read past its end. The Wire then runs on it as on a socket.
 */
export class MseStream extends EventEmitter implements PeerStream {
  /** Plain text read before a 'data' listener came; handed over, in order, once one does. */
  private pending: Buffer[] | null

  constructor (private readonly inner: PeerStream, private readonly encrypt: Rc4 | null, private readonly decrypt: Rc4 | null, head: Buffer) {
    super()
    this.pending = head.length > 0 ? [head] : []
    inner.on('data', (chunk: Buffer) => {
      // A chunk is ours only until this listener returns (TCP reads into one shared buffer):
      // decrypt it in place for the Wire, which parses it at once, and copy what must wait.
      this.decrypt?.update(chunk)
      if (this.pending !== null) this.pending.push(Buffer.from(chunk))
      else this.emit('data', chunk)
    })
    inner.on('drain', () => this.emit('drain'))
    inner.on('error', (err: Error) => this.emit('error', err))
    inner.on('close', (hadError: boolean) => this.emit('close', hadError))
    this.on('newListener', (event: string) => {
      if (event === 'data' && this.pending !== null) process.nextTick(() => { this.flush() })
    })
  }

  get remoteAddress (): string | undefined { return this.inner.remoteAddress }
  get remotePort (): number | undefined { return this.inner.remotePort }
  get writableLength (): number { return this.inner.writableLength }
  get writableHighWaterMark (): number { return this.inner.writableHighWaterMark }
  get destroyed (): boolean { return this.inner.destroyed }

  write (chunk: Uint8Array): boolean {
    if (this.encrypt === null) return this.inner.write(chunk)
    // A copy: the caller may reuse its buffer once write() returns.
    return this.inner.write(this.encrypt.update(Buffer.from(chunk)))
  }

  cork (): void { this.inner.cork() }
  uncork (): void { this.inner.uncork() }
  destroy (err?: Error): void { this.inner.destroy(err) }
  resetAndDestroy (): void { this.inner.resetAndDestroy() }
  setNoDelay (noDelay?: boolean): void { this.inner.setNoDelay(noDelay) }

  private flush (): void {
    const pending = this.pending
    if (pending === null) return
    this.pending = null
    for (const chunk of pending) {
      if (this.inner.destroyed && this.listenerCount('data') === 0) return
      this.emit('data', chunk)
    }
  }
}
