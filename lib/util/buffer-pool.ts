/**
 * Buffers of one size, handed out and taken back. A downloader that allocated a fresh 1 MiB
 * buffer per piece left the allocator fragmented and its RSS far above what it held; reusing a
 * few keeps memory flat.
 */
export class BufferPool {
  readonly size: number
  private readonly free: Buffer[] = []
  private readonly keep: number
  private readonly allocate: (size: number) => Buffer

  /** Keeps at most `keep` free buffers; more given back are left to the garbage collector. */
  constructor (size: number, keep: number, allocate: (size: number) => Buffer) {
    this.size = size
    this.keep = keep
    this.allocate = allocate
  }

  take (): Buffer {
    return this.free.pop() ?? this.allocate(this.size)
  }

  give (buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer)
  }
}
