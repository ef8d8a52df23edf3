import { EventEmitter } from 'node:events'
import type { PeerStream, Transport } from '../types.js'
import { TrackerlessError } from '../../errors.js'
import { initiate, type Method } from './handshake.js'

/** How an outgoing connection opens: with the MSE/PE handshake, or with the BitTorrent one in plain text. */
export type Opening = 'mse' | 'plain'

/** The BitTorrent handshake's length, and where its info-hash lies: the SKEY of an MSE attempt. */
const BT_HANDSHAKE = 68
const INFO_HASH_AT = 28
/** What was written before the peer answered is kept to be sent again on a retry. The Wire writes
 *  only its handshake (68 bytes) then; past the longest initial payload a retry is given up. */
const MAX_REPLAY = 65535

export interface OutgoingOptions {
  transport: Transport
  host: string
  port: number
  /** ms for each attempt's connection to come up. */
  connectTimeout?: number
  first: Opening
  /** Try the other opening once when the peer drops the first one before its handshake. */
  retry: boolean
  /** crypto_provide of an MSE attempt: RC4, or RC4 | PLAINTEXT. */
  provide: number
  /** ms for an MSE attempt's encryption handshake. */
  mseTimeout?: number
}

/**
 * An outgoing connection that opens with MSE/PE or in plain text, and, when allowed, once with the
 * other when the peer closes or fails the first before answering (libtorrent's pe_enabled does the
 * same with a fast reconnect). The Wire runs on it from the start: what it writes before the
 * connection is up and open waits here, its handshake first, which is both the initial payload of
 * an MSE attempt (so SKEY is its info-hash) and what a retry sends again.
 */
export class OutgoingStream extends EventEmitter implements PeerStream {
  /** The opening of the attempt under way, or of the connection that carries the peer. */
  opening: Opening
  /** After an MSE opening: what crypto_select chose. */
  method: Method | null = null
  private raw: PeerStream
  /** connecting; up (MSE: waiting for the Wire's handshake); handshaking (MSE); open (the Wire's bytes flow). */
  private state: 'connecting' | 'up' | 'handshaking' | 'open' = 'connecting'
  /** The stream the Wire's bytes go to once open: the connection, or the MSE stream over it. */
  private live: PeerStream | null = null
  /** Everything written so far, while a retry may need it; null once the peer answered. */
  private history: Buffer[] | null = []
  private historyBytes = 0
  /** Written and not yet sent on this attempt. */
  private pending: Buffer[] = []
  /** The peer sent bytes of the BitTorrent protocol, or completed the encryption handshake. */
  private answered = false
  private retried = false
  private closed = false
  private noDelay: boolean | undefined
  private corked = 0
  private firstFailure: Error | null = null

  constructor (private readonly options: OutgoingOptions) {
    super()
    this.opening = options.first
    this.raw = this.open()
  }

  get remoteAddress (): string | undefined { return this.raw.remoteAddress }
  get remotePort (): number | undefined { return this.raw.remotePort }
  get writableLength (): number { return this.live?.writableLength ?? this.pending.reduce((n, b) => n + b.length, 0) }
  get writableHighWaterMark (): number { return this.raw.writableHighWaterMark }
  get destroyed (): boolean { return this.closed }

  write (chunk: Uint8Array): boolean {
    if (this.closed) return false
    if (this.history !== null) {
      this.historyBytes += chunk.length
      if (this.historyBytes > MAX_REPLAY) this.history = null
      else this.history.push(Buffer.from(chunk))
    }
    if (this.live !== null) return this.live.write(chunk)
    this.pending.push(Buffer.from(chunk))
    if (this.state === 'up') this.startMse()
    return true
  }

  cork (): void {
    if (this.live === null) return
    this.corked++
    this.live.cork()
  }

  uncork (): void {
    if (this.corked === 0) return
    this.corked--
    this.live?.uncork()
  }

  destroy (err?: Error): void { this.finish(err) }
  resetAndDestroy (): void {
    if (!this.closed) this.raw.resetAndDestroy()
    this.finish()
  }

  setNoDelay (noDelay?: boolean): void {
    this.noDelay = noDelay
    this.raw.setNoDelay(noDelay)
  }

  private open (): PeerStream {
    this.state = 'connecting'
    const raw: PeerStream = this.options.transport.dial(this.options.host, this.options.port, {
      // An MSE attempt's handshake and stream read 'data' events off the connection.
      onData: (chunk) => {
        if (raw !== this.raw) return
        if (this.opening === 'mse') raw.emit('data', chunk)
        else this.fromPeer(chunk)
      },
      ...(this.options.connectTimeout !== undefined ? { timeout: this.options.connectTimeout } : {})
    })
    if (this.noDelay !== undefined) raw.setNoDelay(this.noDelay)
    raw.once('connect', () => {
      if (raw !== this.raw || this.closed) return
      this.state = 'up'
      this.emit('connect')
      if (this.opening === 'plain') this.goLive(raw)
      else this.startMse()
    })
    raw.on('drain', () => { if (raw === this.raw && this.live !== null) this.emit('drain') })
    const ended = (err?: Error): void => {
      if (raw !== this.raw) return
      // An MSE handshake reports its own failure, and an open MSE stream its own end.
      if (this.opening === 'mse' && (this.state === 'handshaking' || this.state === 'open')) return
      if (this.state === 'connecting') this.finish(this.firstFailure === null || err === undefined ? err : this.reason(err))
      else if (!this.answered) this.failed(err instanceof TrackerlessError ? err : new TrackerlessError('EPROTO', 'the peer closed the connection before its BitTorrent handshake'))
      else this.finish(err)
    }
    raw.on('error', ended)
    raw.on('close', () => ended())
    return raw
  }

  /** Runs the MSE handshake once the connection is up and the Wire's handshake has been written. */
  private startMse (): void {
    const head = Buffer.concat(this.pending)
    if (head.length < BT_HANDSHAKE) return
    this.state = 'handshaking'
    const ia = head.subarray(0, MAX_REPLAY)
    const after = head.subarray(ia.length)
    this.pending = after.length > 0 ? [after] : []
    const raw = this.raw
    initiate(raw, {
      infoHash: ia.subarray(INFO_HASH_AT, INFO_HASH_AT + 20),
      provide: this.options.provide,
      initialPayload: ia,
      ...(this.options.mseTimeout !== undefined ? { timeout: this.options.mseTimeout } : {})
    }).then((result) => {
      if (raw !== this.raw || this.closed) { result.stream.destroy(); return }
      this.method = result.method
      // The peer took our handshake encrypted: no plain-text retry from here.
      this.answered = true
      this.history = null
      const stream = result.stream
      stream.on('data', (chunk: Buffer) => this.fromPeer(chunk))
      stream.on('error', (err: Error) => this.finish(err))
      stream.on('close', () => this.finish())
      this.goLive(stream)
    }, (err: Error) => {
      if (raw === this.raw && !this.closed) this.failed(err)
    })
  }

  private goLive (stream: PeerStream): void {
    this.state = 'open'
    this.live = stream
    this.corked = 0
    const pending = this.pending
    this.pending = []
    if (pending.length > 0) stream.write(pending.length === 1 ? pending[0]! : Buffer.concat(pending))
  }

  private fromPeer (chunk: Buffer): void {
    this.answered = true
    this.history = null
    this.emit('data', chunk)
  }

  /** The attempt failed after its connection came up and before the peer answered. */
  private failed (err: Error): void {
    if (this.closed) return
    if (!this.options.retry || this.retried || this.history === null) {
      this.finish(this.reason(err))
      return
    }
    this.retried = true
    this.firstFailure = err
    const old = this.raw
    this.opening = this.opening === 'mse' ? 'plain' : 'mse'
    this.live = null
    this.method = null
    this.pending = [...this.history]
    this.raw = this.open()
    old.destroy()
  }

  /** Why the peer was dropped, with what the user can do about it. */
  private reason (err: Error): TrackerlessError {
    const code = err instanceof TrackerlessError ? err.code : 'EPROTO'
    const peer = `${this.options.host}:${this.options.port}`
    if (this.firstFailure !== null) {
      return new TrackerlessError(code, `${peer} dropped us both with and without encryption: ${this.firstFailure.message}; then ${err.message}`)
    }
    if (this.opening === 'mse' && !this.options.retry) {
      return new TrackerlessError(code, `${peer} did not complete the encryption handshake (${err.message}); it may not support encryption, which encryption 'require' insists on: use 'prefer' to reach it in plain text`)
    }
    return new TrackerlessError(code, `${peer}: ${err.message}`)
  }

  private finish (err?: Error): void {
    if (this.closed) return
    this.closed = true
    this.live?.destroy()
    this.raw.destroy()
    process.nextTick(() => {
      if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err)
      this.emit('close', err !== undefined)
    })
  }
}
