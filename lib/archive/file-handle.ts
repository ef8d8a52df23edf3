import type { Readable } from 'node:stream'
import { TrackerlessError } from '../errors.js'
import type { Stats } from './stats.js'
import type { ReadStreamOptions } from './types.js'

/** What a FileHandle reads through: its archive's own methods, so that every check stays there. */
export interface HandleSource {
  readFile (path: string, options?: { encoding?: BufferEncoding | null, signal?: AbortSignal } | null): Promise<Buffer | string>
  stat (path: string): Promise<Stats>
  createReadStream (path: string, options?: ReadStreamOptions): Readable
}

export interface FileReadOptions<T extends Uint8Array = Buffer> {
  buffer?: T
  offset?: number
  length?: number
  /** null or absent: the handle's current position, which the read then advances. */
  position?: number | null
}

/**
 * A read-only, fs/promises FileHandle-like view of one archive file, for libraries written
 * against fs.open(): read, readFile, stat, createReadStream, close. There is no descriptor
 * (`fd` is -1): the bytes come from the swarm, fetched first like any read.
 */
export class FileHandle {
  readonly fd = -1
  readonly #source: HandleSource
  readonly #path: string
  #position = 0
  #closed = false

  constructor (source: HandleSource, path: string) {
    this.#source = source
    this.#path = path
  }

  /** Reads into `buffer` (a new 16 KiB one when absent) like FileHandle.read: `{ bytesRead, buffer }`. */
  async read<T extends Uint8Array = Buffer> (buffer?: T | FileReadOptions<T>, offset?: number, length?: number, position?: number | null): Promise<{ bytesRead: number, buffer: T }> {
    this.#check()
    const o: FileReadOptions<T> = buffer instanceof Uint8Array || buffer === undefined ? { buffer, offset, length, position } : buffer
    const target = o.buffer ?? Buffer.alloc(16384) as unknown as T
    const at = o.offset ?? 0
    const want = o.length ?? target.byteLength - at
    if (!Number.isInteger(at) || !Number.isInteger(want) || at < 0 || want < 0 || at + want > target.byteLength) {
      throw Object.assign(new RangeError(`The value of "offset"/"length" is out of range: ${at}+${want} > ${target.byteLength} bytes of buffer`), { code: 'ERR_OUT_OF_RANGE' })
    }
    const from = o.position ?? this.#position
    let bytesRead = 0
    if (want > 0) {
      for await (const chunk of this.#source.createReadStream(this.#path, { start: from, end: from + want - 1 })) {
        target.set(chunk as Buffer, at + bytesRead)
        bytesRead += (chunk as Buffer).length
      }
    }
    if (o.position === null || o.position === undefined) this.#position += bytesRead
    return { bytesRead, buffer: target }
  }

  async readFile (options?: BufferEncoding | { encoding?: BufferEncoding | null, signal?: AbortSignal } | null): Promise<Buffer | string> {
    this.#check()
    return await this.#source.readFile(this.#path, typeof options === 'string' ? { encoding: options } : options)
  }

  async stat (): Promise<Stats> {
    this.#check()
    return await this.#source.stat(this.#path)
  }

  createReadStream (options?: ReadStreamOptions): Readable {
    this.#check()
    return this.#source.createReadStream(this.#path, options)
  }

  async close (): Promise<void> {
    this.#closed = true
  }

  #check (): void {
    if (this.#closed) throw Object.assign(new TrackerlessError('ECLOSED', 'this file handle is closed; open the file again with archive.open()'), { syscall: 'read' })
  }
}
