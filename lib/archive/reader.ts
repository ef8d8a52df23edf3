import { setMaxListeners } from 'node:events'
import type { TorrentPort } from './port.js'
import { TrackerlessError } from '../errors.js'

/**
 * Bytes [offset, offset+length) of a torrent. The pieces under the range jump the download queue
 * and are awaited; then they are read from storage, where only verified pieces ever are. An abort
 * rejects with EABORTED, and either way the range's priority ends with the read.
 */
export async function readRange (swarm: TorrentPort, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
  const meta = swarm.metainfo
  if (meta === null || !swarm.ready) {
    throw new TrackerlessError('ECLOSED', 'the archive is not open; open it with client.lookup()')
  }
  throwIfAborted(signal)
  if (length === 0) return Buffer.alloc(0)
  const first = Math.floor(offset / meta.pieceLength)
  const last = Math.floor((offset + length - 1) / meta.pieceLength)
  const missing: number[] = []
  for (let i = first; i <= last; i++) if (!swarm.hasPiece(i)) missing.push(i)
  if (missing.length > 0) {
    const release = swarm.prioritize(missing[0]!, missing[missing.length - 1]!)
    // One listener on the caller's signal, however many pieces wait on ours.
    const waiting = new AbortController()
    setMaxListeners(missing.length + 1, waiting.signal)
    const onAbort = (): void => waiting.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      await Promise.all(missing.map((i) => swarm.waitForPiece(i, waiting.signal)))
    } finally {
      signal?.removeEventListener('abort', onAbort)
      release()
    }
  }
  const out = Buffer.allocUnsafe(length)
  let written = 0
  for (let i = first; i <= last; i++) {
    const pieceStart = i * meta.pieceLength
    const begin = Math.max(offset, pieceStart) - pieceStart
    const end = Math.min(offset + length, pieceStart + meta.pieceLength) - pieceStart
    const chunk = await swarm.readPiece(i, begin, end - begin)
    chunk.copy(out, written)
    written += chunk.length
  }
  return out
}

/** Pieces under [offset, offset+length) are fetched before any other until the returned function
 *  is called: a stream's read-ahead. */
export function prefetchRange (swarm: TorrentPort, offset: number, length: number): () => void {
  const meta = swarm.metainfo
  if (meta === null || length <= 0) return () => {}
  const first = Math.floor(offset / meta.pieceLength)
  const last = Math.min(meta.pieceCount - 1, Math.floor((offset + length - 1) / meta.pieceLength))
  return swarm.prioritize(first, last)
}

/** EABORTED (an AbortError by name) when `signal` has aborted. */
export function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new TrackerlessError('EABORTED', 'the read was aborted by its signal')
}
