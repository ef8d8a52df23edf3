import os from 'node:os'
import RandomAccessMemory from 'random-access-memory'
import type { WriteRequest } from 'random-access-file'
import { TrackerlessError } from '../errors.js'

/** What the files of one memory storage hold together, and what they may. */
export interface MemoryBudget {
  readonly limit: number
  used: number
}

const MiB = 2 ** 20

/**
 * The default memoryLimit: half the memory of the machine, or of the container when it has a
 * limit (cgroups), so that a download into memory fails with ENOMEM before the system swaps or
 * kills the process. Node reports "no limit" as 2^64.
 */
export function defaultMemoryLimit (): number {
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0
  const machine = os.totalmem()
  return Math.floor((constrained > 0 && constrained < machine ? constrained : machine) / 2)
}

/** The `memoryLimit` option as a byte count (Infinity: none); ERR_INVALID_ARG_VALUE when it is not one. */
export function memoryLimitOf (given: unknown): number {
  if (given === undefined) return defaultMemoryLimit()
  if (typeof given !== 'number' || Number.isNaN(given) || given < 0) {
    throw new TrackerlessError('ERR_INVALID_ARG_VALUE', `The "memoryLimit" option must be a number of bytes, 0 or more (0: no limit); got ${typeof given === 'number' ? String(given) : typeof given}.`)
  }
  return given === 0 ? Infinity : given
}

/**
 * random-access-memory whose pages count against a budget shared by the files of one storage: a
 * write that needs pages past the budget fails with ENOMEM instead of growing the process
 * without end. Pages (1 MiB, random-access-memory's) are counted when allocated and given back
 * when the file closes.
 */
export class BoundedMemory extends RandomAccessMemory {
  private readonly budget: MemoryBudget
  private charged = 0

  constructor (budget: MemoryBudget) {
    super()
    this.budget = budget
  }

  /** A second opener's copy of this file's contents, counted too (a copy is memory as well). */
  copy (): BoundedMemory {
    const twin = new BoundedMemory(this.budget)
    twin.length = this.length
    twin.pageSize = this.pageSize
    twin.buffers = this.buffers.map((page) => page === undefined ? undefined : Buffer.from(page))
    twin.charge(twin.buffers.filter((page) => page !== undefined).length * twin.pageSize)
    return twin
  }

  override _write (req: WriteRequest): void {
    const need = this.newPages(req.offset, req.size) * this.pageSize
    const { limit, used } = this.budget
    if (need > 0 && used + need > limit) {
      req.callback(new TrackerlessError('ENOMEM', `memory storage would hold ${Math.ceil((used + need) / MiB)} MiB, past its memoryLimit of ${Math.floor(limit / MiB)} MiB for all open torrents`))
      return
    }
    this.charge(need)
    super._write(req)
  }

  /** The file closed: its pages go, and their bytes go back to the budget. */
  release (): void {
    this.budget.used -= this.charged
    this.charged = 0
    this.buffers = []
  }

  private charge (bytes: number): void {
    this.charged += bytes
    this.budget.used += bytes
  }

  /** Pages that a write of `size` bytes at `offset` allocates. */
  private newPages (offset: number, size: number): number {
    if (size === 0) return 0
    let count = 0
    const last = Math.floor((offset + size - 1) / this.pageSize)
    for (let i = Math.floor(offset / this.pageSize); i <= last; i++) if (this.buffers[i] === undefined) count++
    return count
  }
}
