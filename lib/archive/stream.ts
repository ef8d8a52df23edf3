import { Readable } from 'node:stream'
import { TrackerlessError } from '../errors.js'
import { BLOCK_SIZE } from '../wire/messages.js'

/** One file's bytes, in file coordinates, as the stream needs them. */
export interface FileSource {
  read (position: number, length: number, signal?: AbortSignal): Promise<Buffer>
  /** Fetch [position, position+length) ahead of everything else until the returned function runs. */
  prefetch (position: number, length: number): () => void
  /** The unit the network delivers (a piece), so that a chunk never waits for two. */
  pieceLength: number
  /** Where the file starts in the torrent, to align chunks on piece boundaries. */
  offset: number
}

/** The source of a stream that fails before its first read. */
export const emptySource: FileSource = {
  offset: 0,
  pieceLength: BLOCK_SIZE,
  read: async () => Buffer.alloc(0),
  prefetch: () => () => {}
}

/** Largest chunk pushed at once, so memory stays bounded whatever the piece length. */
const MAX_CHUNK = 1024 * 1024
/** How far ahead of the reader pieces are prioritised: enough to keep a fast swarm busy. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024
const READ_AHEAD_PIECES = 4

/**
 * Bytes `start` to `end` (inclusive) of a file. Each chunk ends on a piece boundary, so the first
 * bytes come out as soon as their piece is verified; the pieces just ahead of the reader are
 * prioritised too, so they are on their way while the reader consumes the current one.
 */
export class ReadAheadStream extends Readable {
  private position: number
  private readonly end: number
  private readonly source: FileSource
  private readonly controller = new AbortController()
  private readonly signal: AbortSignal | undefined
  private readonly onAbort = (): void => { this.destroy(new TrackerlessError('EABORTED', 'the stream was aborted by its signal')) }
  private releaseAhead: () => void = () => {}

  private readonly chunk: number

  constructor (source: FileSource, start: number, end: number, signal?: AbortSignal, highWaterMark?: number) {
    super(highWaterMark !== undefined ? { highWaterMark } : {})
    this.chunk = Math.max(1, Math.min(MAX_CHUNK, Math.floor(highWaterMark ?? MAX_CHUNK)))
    this.source = source
    this.position = start
    this.end = end
    this.signal = signal
    if (signal?.aborted === true) queueMicrotask(this.onAbort)
    else signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  override _read (): void {
    if (this.position > this.end) {
      this.stopReadingAhead()
      this.push(null)
      return
    }
    const { pieceLength, offset } = this.source
    const pieceEnd = (Math.floor((offset + this.position) / pieceLength) + 1) * pieceLength - offset
    const length = Math.min(this.chunk, pieceEnd - this.position, this.end - this.position + 1)
    this.readAhead()
    this.source.read(this.position, length, this.controller.signal).then((chunk) => {
      if (this.destroyed) return
      this.position += length
      this.push(chunk)
    }, (err: Error) => this.destroy(err))
  }

  override _destroy (err: Error | null, callback: (err?: Error | null) => void): void {
    this.controller.abort()
    this.stopReadingAhead()
    this.signal?.removeEventListener('abort', this.onAbort)
    callback(err)
  }

  private readAhead (): void {
    const ahead = Math.max(READ_AHEAD_BYTES, READ_AHEAD_PIECES * this.source.pieceLength)
    const release = this.source.prefetch(this.position, Math.min(ahead, this.end - this.position + 1))
    this.releaseAhead()
    this.releaseAhead = release
  }

  private stopReadingAhead (): void {
    this.releaseAhead()
    this.releaseAhead = () => {}
  }
}
