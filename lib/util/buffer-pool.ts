/**
 * Buffers of one size, handed out and taken back. A downloader that allocated a fresh 1 MiB
 * buffer per piece left the allocator fragmented and its RSS far above what it held; reusing a
 * few keeps memory flat. A buffer may come back while something still reads it (bytes queued on a
 * socket): then it is handed out again only once its test says it is free.
 */
export class BufferPool {
  readonly size: number
  private readonly keep: number
  private readonly allocate: (size: number) => Buffer
  /** Buffers this pool made: only those are taken back. */
  private readonly own = new WeakSet<Buffer>()
  /** Buffers given back, oldest first, each with the test that says it is free (null: it is). */
  private readonly given: Array<{ readonly buffer: Buffer, readonly free: (() => boolean) | null }> = []

  /** Keeps at most `keep` buffers given back, dropping the oldest to the garbage collector. */
  constructor (size: number, keep: number, allocate: (size: number) => Buffer) {
    this.size = size
    this.keep = keep
    this.allocate = allocate
  }

  /** The oldest buffer given back that is free (the likeliest to be), or a new one. */
  take (): Buffer {
    for (let i = 0; i < this.given.length; i++) {
      const { buffer, free } = this.given[i]!
      if (free !== null && !free()) continue
      this.given.splice(i, 1)
      return buffer
    }
    const buffer = this.allocate(this.size)
    this.own.add(buffer)
    return buffer
  }

  /** `buffer` may be taken again once `free()` is true, or at once without it; ignored unless take() made it. */
  give (buffer: Buffer, free: (() => boolean) | null = null): void {
    if (!this.own.has(buffer)) return
    this.given.push({ buffer, free })
    if (this.given.length > this.keep) this.given.shift()
  }
}
