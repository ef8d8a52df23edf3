/**
 * File writes on a thread of their own, for the disk storage: see write-worker.ts for why they are
 * sliced, and the slicing is why they cannot go through libuv's pool (64 round trips per MiB).
 * Data in a SharedArrayBuffer (sharedBuffer(), which downloaders' piece buffers use) reaches the
 * thread without a copy; other data is copied once.
 */
import { Worker } from 'node:worker_threads'

export interface WriteJob {
  id: number
  fd: number
  buffer: SharedArrayBuffer
  byteOffset: number
  length: number
  position: number
}

export interface WriteResult {
  id: number
  error?: { code: string, message: string }
}

type Done = (err: Error | null) => void

/** A zero-filled buffer that file writes can share with the writing thread. */
export function sharedBuffer (size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size))
}

let worker: Worker | null = null
let nextId = 0
const pending = new Map<number, Done>()

/**
 * Starts the writing thread now if it is not running. Booting it costs tens of milliseconds of
 * CPU: paid at the first write, it would delay the first verified piece (the one a read is
 * waiting for) and, in a swarm, land in the middle of the download. Idle, it keeps no process alive.
 */
export function startWriter (): void {
  if (worker === null) start()
}

/** Writes all of `data` at `position` of the open file `fd`; `done` runs once it is written or failed. */
export function writeInBackground (fd: number, data: Uint8Array, position: number, done: Done): void {
  const shared = data.buffer instanceof SharedArrayBuffer ? data : copyToShared(data)
  const id = nextId++
  pending.set(id, done)
  const thread = worker ?? start()
  // Only a write in progress keeps the process alive, as with libuv's own file writes.
  if (pending.size === 1) thread.ref()
  const job: WriteJob = { id, fd, buffer: shared.buffer as SharedArrayBuffer, byteOffset: shared.byteOffset, length: shared.length, position }
  thread.postMessage(job)
}

function copyToShared (data: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(data.length))
  out.set(data)
  return out
}

function start (): Worker {
  // No inherited node flags: some (--input-type with -e) make a worker fail to start.
  const thread = new Worker(new URL('./write-worker.js', import.meta.url), { execArgv: [] })
  thread.on('message', (result: WriteResult) => {
    const done = pending.get(result.id)
    pending.delete(result.id)
    if (pending.size === 0) thread.unref()
    if (done === undefined) return
    if (result.error === undefined) done(null)
    else done(Object.assign(new Error(result.error.message), { code: result.error.code }))
  })
  const fail = (err: Error): void => {
    // An 'error' is followed by 'exit': only the first ends the jobs, and only this thread's.
    if (worker !== thread) return
    worker = null
    const waiting = [...pending.values()]
    pending.clear()
    for (const done of waiting) done(err)
  }
  thread.on('error', fail)
  thread.on('exit', (code) => fail(Object.assign(new Error(`the file-writing thread exited (code ${code})`), { code: 'EIO' })))
  // After the listeners: adding a 'message' listener refs the thread again.
  thread.unref()
  worker = thread
  return thread
}
