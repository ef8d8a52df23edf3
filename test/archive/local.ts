import type { TestContext } from 'node:test'
import { Torrent, type TorrentOptions } from '../../index.js'

/** A started client on 127.0.0.1 with no discovery, stopped when the test ends. */
export async function localClient (t: TestContext, opts: TorrentOptions = {}): Promise<Torrent> {
  const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', ...opts })
  await client.start()
  t.after(() => client.stop())
  return client
}

/** "127.0.0.1:port" of a started client. */
export function addressOf (client: Torrent): string {
  return `127.0.0.1:${client.port}`
}

/** The rejection of `promise` (or of `fn`'s callback form), failing when it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise
  } catch (err) {
    return err as Error & { code?: string }
  }
  throw new Error('expected a rejection, got a value')
}

/** Runs a node-style callback API as a promise. */
export function viaCallback<T> (call: (cb: (err: Error | null, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => call((err, value) => { if (err !== null) reject(err); else resolve(value) }))
}
