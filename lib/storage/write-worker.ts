/**
 * The thread behind file-writer.ts: writes each job with blocking pwrite calls of WRITE_SLICE
 * bytes, so that one message costs the main thread nothing but posting it.
 */
import { writeSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import type { WriteJob, WriteResult } from './file-writer.js'

/**
 * Linux (6.x; ext4 and others with large folios) sizes page-cache folios by the write's length,
 * and folios above 16 KiB come from free memory that, on a VM handing free pages back to its
 * host, is slow to touch the first time: 1 GiB written to a new file cost 0.4-0.6 CPU-s in the
 * kernel in 16 KiB writes against 1.0-1.7 s in 64-256 KiB writes and 2.0-2.7 s in 1 MiB writes.
 */
const WRITE_SLICE = 16 * 1024

parentPort!.on('message', (job: WriteJob) => {
  const data = new Uint8Array(job.buffer, job.byteOffset, job.length)
  let result: WriteResult
  try {
    let at = 0
    while (at < data.length) at += writeSync(job.fd, data, at, Math.min(WRITE_SLICE, data.length - at), job.position + at)
    result = { id: job.id }
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException
    result = { id: job.id, error: { code: code ?? 'EIO', message } }
  }
  parentPort!.postMessage(result)
})
