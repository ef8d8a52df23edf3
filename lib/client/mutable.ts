import type { JoinableDht } from '../mutable/dht-api.js'
import { resolveMutable, type Resolved } from '../mutable/resolve.js'
import { TrackerlessError } from '../errors.js'

/**
 * The newest item under `publicKey`/`salt` within `timeout` ms, first waiting for the DHT to know
 * a node (a client just started may not have joined yet). Rejects with ETIMEDOUT when nothing is
 * found in time, EBADSIG when only forgeries are, EABORTED on `signal`.
 */
export async function resolveWithin (dht: JoinableDht, publicKey: Buffer, salt: Buffer | undefined, timeout: number, signal?: AbortSignal): Promise<Resolved> {
  const found = await deadline(joined(dht).then(() => resolveMutable(dht, publicKey, salt)), timeout, signal,
    `no DHT node had an item for this key within ${timeout} ms; check that the client reaches the DHT (bootstrap nodes), or raise { timeout }`)
  if (found === null) throw new TrackerlessError('ETIMEDOUT', 'no DHT node has an item for this key; check that it was published, and with this salt')
  return found
}

/** Resolves once the DHT knows at least one node. */
export function joined (dht: JoinableDht): Promise<void> {
  if (dht.nodes.count() > 0) return Promise.resolve()
  return new Promise((resolve) => dht.once('node', () => resolve()))
}

/** `work`, or ETIMEDOUT after `ms`, or EABORTED when `signal` aborts; whichever comes first. */
export function deadline<T> (work: Promise<T>, ms: number, signal: AbortSignal | undefined, timeoutMessage: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new TrackerlessError('ETIMEDOUT', timeoutMessage)), ms)
    const onAbort = (): void => done(new TrackerlessError('EABORTED', 'aborted by its signal'))
    function done (err: Error | null, value?: T): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (err !== null) reject(err)
      else resolve(value as T)
    }
    signal?.addEventListener('abort', onAbort)
    work.then((value) => done(null, value), (err: Error) => done(err))
  })
}

/** A salt given as text (UTF-8) or bytes. */
export function saltBytes (salt: string | Uint8Array | undefined): Buffer | undefined {
  if (salt === undefined) return undefined
  return typeof salt === 'string' ? Buffer.from(salt, 'utf8') : Buffer.from(salt)
}
