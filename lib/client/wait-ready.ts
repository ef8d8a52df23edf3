import { TrackerlessError } from '../errors.js'
import type { Swarm } from '../swarm/swarm.js'

/** The lookup's signal fired: stop with EABORTED. */
export function abortIfNeeded (signal?: AbortSignal): void {
  if (signal?.aborted === true) throw new TrackerlessError('EABORTED', 'the lookup was aborted by its signal')
}

/** Metadata within `timeout` (checking existing data afterwards is not timed), or abort. */
export function waitReady (swarm: Swarm, timeout: number, signal?: AbortSignal): Promise<void> {
  if (swarm.ready) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = swarm.metainfo !== null
      ? null
      : setTimeout(() => finish(new TrackerlessError('ETIMEDOUT', `no peer sent the metadata within ${timeout} ms; check that a peer seeds it, or raise { timeout }`)), timeout)
    const onMetadata = (): void => { if (timer !== null) clearTimeout(timer) }
    const onReady = (): void => finish()
    const onError = (err: Error): void => finish(err)
    const onAbort = (): void => finish(new TrackerlessError('EABORTED', 'the lookup was aborted by its signal'))
    function finish (err?: Error): void {
      if (timer !== null) clearTimeout(timer)
      swarm.off('metadata', onMetadata)
      swarm.off('ready', onReady)
      swarm.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    swarm.on('metadata', onMetadata)
    swarm.on('ready', onReady)
    swarm.on('error', onError)
    signal?.addEventListener('abort', onAbort)
  })
}
