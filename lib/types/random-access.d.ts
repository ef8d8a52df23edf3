declare module 'random-access-storage' {
  type Callback<T> = (err: Error | null, value?: T) => void
  /** The callback interface shared by random-access-file and random-access-memory. */
  export default class RandomAccessStorage {
    readable: boolean
    writable: boolean
    opened: boolean
    closed: boolean
    open (cb: Callback<void>): void
    read (offset: number, size: number, cb: Callback<Buffer>): void
    write (offset: number, data: Uint8Array, cb: Callback<void>): void
    del (offset: number, size: number, cb: Callback<void>): void
    truncate (offset: number, cb: Callback<void>): void
    stat (cb: Callback<{ size: number }>): void
    close (cb: Callback<void>): void
    unlink (cb: Callback<void>): void
  }
}

declare module 'random-access-file' {
  import RandomAccessStorage from 'random-access-storage'
  export interface RandomAccessFileOptions {
    directory?: string
    truncate?: boolean
    size?: number
    readable?: boolean
    writable?: boolean
    lock?: boolean
    sparse?: boolean
    /** Makes the buffer each read fills. */
    alloc?: (size: number) => Buffer
  }
  /** What random-access-storage hands to a subclass's _write. */
  export interface WriteRequest {
    data: Buffer
    offset: number
    size: number
    callback (err: Error | null): void
  }
  export default class RandomAccessFile extends RandomAccessStorage {
    constructor (filename: string, opts?: RandomAccessFileOptions)
    /** The open descriptor, 0 while closed. */
    fd: number
    readonly filename: string
    /** O_RDWR, O_RDONLY or O_WRONLY, from the readable/writable options. */
    readonly mode: number
    /** Set by random-access-storage once a write was asked for: the next open must create the file. */
    readonly writing: boolean
    _open (req: { callback (err: Error | null): void }): void
    _write (req: WriteRequest): void
  }
}

declare module 'random-access-memory' {
  import RandomAccessStorage from 'random-access-storage'
  import type { WriteRequest } from 'random-access-file'
  export default class RandomAccessMemory extends RandomAccessStorage {
    constructor (opts?: number | Buffer | { length?: number, pageSize?: number })
    length: number
    pageSize: number
    /** Its pages; a hole where nothing was written. */
    buffers: Array<Buffer | undefined>
    _write (req: WriteRequest): void
  }
}
