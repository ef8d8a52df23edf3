import type { PeerStream } from '../types.js'
import { TrackerlessError } from '../../errors.js'

/**
 * The bytes a peer has sent during the MSE handshake, and waits for more of them. Bounded: the
 * handshake's own fields fit in about 67 KiB (an initial payload of at most 65535 bytes), so a
 * peer that sends more before we answer is dropped rather than buffered.
 */
export class Inbox {
  buf: Buffer = Buffer.alloc(0)
  private wake: (() => void) | null = null
  private failure: Error | null = null
  private readonly onData = (chunk: Buffer): void => {
    if (this.buf.length + chunk.length > MAX_BUFFERED) {
      this.fail(new TrackerlessError('EPROTO', `the peer sent more than ${MAX_BUFFERED} bytes of encryption handshake; closed the connection`))
      return
    }
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk])
    this.poke()
  }

  private readonly onClose = (): void => {
    this.fail(new TrackerlessError('EPROTO', 'the peer closed the connection during the encryption handshake'))
  }

  private readonly onError = (err: Error): void => { this.fail(err) }

  /** `head`: bytes already read from the stream (by a sniff), taken as the first received. */
  constructor (private readonly stream: PeerStream, head?: Buffer) {
    if (head !== undefined) this.buf = Buffer.from(head)
    stream.on('data', this.onData)
    stream.on('close', this.onClose)
    stream.on('error', this.onError)
  }

  fail (err: Error): void {
    this.failure ??= err
    this.poke()
  }

  /** Resolves once `n` bytes are buffered. */
  async need (n: number): Promise<void> {
    while (this.buf.length < n) await this.next()
  }

  /** Resolves once more bytes have arrived; rejects on failure. */
  async next (): Promise<void> {
    if (this.failure !== null) throw this.failure
    await new Promise<void>((resolve) => { this.wake = resolve })
    if (this.failure !== null) throw this.failure
  }

  /** Removes and returns the first `n` bytes. */
  take (n: number): Buffer {
    const head = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return Buffer.from(head)
  }

  /** Stops listening, returning what was read past the handshake. */
  detach (): Buffer {
    this.stream.off('data', this.onData)
    this.stream.off('close', this.onClose)
    this.stream.off('error', this.onError)
    return this.take(this.buf.length)
  }

  private poke (): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }
}

const MAX_BUFFERED = 96 + 512 + 20 + 20 + 16 + 512 + 2 + 65535 + 4096
