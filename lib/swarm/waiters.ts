/**
 * Reads waiting for pieces: one list of callbacks per piece index, woken when the piece is
 * stored, failed when downloading stops or the swarm closes, forgotten when a read aborts. It
 * exists for the swarm's whole life, since a read may wait before metadata arrives.
 */
import { TrackerlessError } from '../errors.js'

export class PieceWaiters {
  private readonly lists = new Map<number, Array<(err?: Error) => void>>()

  /** Resolves when `resolve(index)` is called; an abort rejects with EABORTED and forgets the waiter. */
  wait (index: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(abortError())
    return new Promise((resolve, reject) => {
      const list = this.lists.get(index) ?? []
      const onAbort = (): void => {
        const at = list.indexOf(done)
        if (at !== -1) list.splice(at, 1)
        if (list.length === 0 && this.lists.get(index) === list) this.lists.delete(index)
        reject(abortError())
      }
      const done = (err?: Error): void => {
        signal?.removeEventListener('abort', onAbort)
        if (err === undefined) resolve()
        else reject(err)
      }
      list.push(done)
      this.lists.set(index, list)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Piece indices someone waits for. */
  indices (): number[] {
    return [...this.lists.keys()]
  }

  resolve (index: number, err?: Error): void {
    const list = this.lists.get(index)
    if (list === undefined) return
    this.lists.delete(index)
    for (const done of list) done(err)
  }

  failAll (err: Error): void {
    for (const index of this.indices()) this.resolve(index, err)
  }
}

function abortError (): TrackerlessError {
  return new TrackerlessError('EABORTED', 'the read was aborted by its signal')
}
