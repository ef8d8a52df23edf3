/**
 * Piece-sized buffers for the read cache's disk reads, reused once the cache has dropped them and
 * nothing reads them any more. An uploader that read every piece into a fresh 1 MiB buffer spent
 * more on that memory (page faults, and the mark-compact collections its growth set off) than on
 * the reads: in a swarm of nine processes on two cores, reusing the buffers cut the time to the
 * last downloader's finish by a sixth.
 */
export class ReadBuffers {
  private readonly size: number
  private readonly limit: number
  /** Buffers this allocator made: only those may be handed out again. */
  private readonly own = new WeakSet<Buffer>()
  /** Dropped buffers, oldest first, each with the test that says it is free. */
  private readonly retired: Array<{ readonly buffer: Buffer, readonly free: () => boolean }> = []

  /** Reuses buffers of `size` bytes; keeps at most `limit` waiting, the collector takes the rest. */
  constructor (size: number, limit: number) {
    this.size = size
    this.limit = limit
  }

  /** A buffer for a read of `size` bytes: a retired one that is free, when the size fits. */
  readonly alloc = (size: number): Buffer => {
    if (size !== this.size) return Buffer.allocUnsafe(size)
    for (let i = 0; i < this.retired.length; i++) {
      const { buffer, free } = this.retired[i]!
      if (!free()) continue
      this.retired.splice(i, 1)
      return buffer
    }
    const buffer = Buffer.allocUnsafe(size)
    this.own.add(buffer)
    return buffer
  }

  /** `buffer` may be handed out again once `free()` is true; ignored unless alloc() made it. */
  retire (buffer: Buffer, free: () => boolean): void {
    if (!this.own.has(buffer)) return
    this.retired.push({ buffer, free })
    if (this.retired.length > this.limit) this.retired.shift()
  }
}
