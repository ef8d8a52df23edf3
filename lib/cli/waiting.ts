import type { Command } from 'commander'
import type { Archive } from '../archive/archive.js'
import { TrackerlessError } from '../errors.js'
import type { CommonOptions } from './common.js'
import type { Output } from './output.js'

/** What `get` waits with: --timeout MS, or false for --no-timeout. */
export type Patience = number | false

/** The longest timer Node keeps (2^31-1 ms, ~24 days); a larger one fires at once. */
const FOREVER_MS = 2 ** 31 - 1

/** The wait before saying "no peers yet": half the timeout, and never more than this. */
const NOTICE_MS = 5_000

export function addNoTimeoutOption (cmd: Command): Command {
  return cmd.option('--no-timeout', 'wait for peers and data forever (for a download that should finish whenever a seeder shows up)')
}

/** The lookup's timeout for the metadata. */
export function lookupTimeout (timeout: Patience): number {
  return timeout === false ? FOREVER_MS : timeout
}

/** "DHT on (bootstrap a:1), LSD off, named peers: none, peers found: 0": where we looked, for a user
 *  wondering why nothing comes. The DHT's node count is not public API, so the bootstrap list stands for it. */
export function triedText (o: CommonOptions & { peer?: string[] }, peersFound: number): string {
  const dht = !o.dht ? 'DHT off' : `DHT on (bootstrap ${o.bootstrap !== undefined ? o.bootstrap.join(', ') : 'the public routers'})`
  const named = o.peer !== undefined && o.peer.length > 0 ? o.peer.join(', ') : 'none'
  return `peers found: ${peersFound}; ${dht}; LSD ${o.lsd ? 'on' : 'off'}; named peers (--peer): ${named}`
}

/** Says once, after a while with nothing, that no peer has answered and where we looked. */
export function noticeNoPeers (out: Output, timeout: Patience, what: string, tried: () => string): { stop: () => void } {
  const ms = Math.min(NOTICE_MS, timeout === false ? NOTICE_MS : Math.ceil(timeout / 2))
  const timer = setTimeout(() => out.info(`no peers yet ${what}; ${tried()}`), ms)
  return { stop: () => clearTimeout(timer) }
}

/** The lookup's metadata timeout, in the CLI's words. */
export function withWhatWasTried (err: unknown, tried: string): unknown {
  if (err instanceof TrackerlessError && err.code === 'ETIMEDOUT') {
    return new TrackerlessError('ETIMEDOUT', `${err.message.replace(/; check that a peer seeds it, or raise \{ timeout \}$/, '')} (${tried}); check that a peer seeds it, pass --peer or --bootstrap, or a longer --timeout (--no-timeout waits forever)`)
  }
  return err
}

/**
 * Every piece verified; or ETIMEDOUT when no byte arrived for `timeout` ms; or EABORTED on Ctrl-C;
 * or the archive's storage error. The timeout bounds each wait for progress, not the whole download,
 * so a slow but moving download is never cut.
 */
export function untilComplete (archive: Archive, signal: AbortSignal, timeout: Patience, out: Output, tried: () => string): Promise<void> {
  if (archive.progress === 1) return Promise.resolve()
  return new Promise((resolve, reject) => {
    let last = archive.downloaded
    let notice = archive.peers.length === 0 ? noticeNoPeers(out, timeout, 'to download from', tried) : null
    const check = (): void => {
      if (archive.downloaded > last) {
        last = archive.downloaded
        timer = setTimeout(check, lookupTimeout(timeout))
        return
      }
      finish(new TrackerlessError('ETIMEDOUT', `no data arrived for ${timeout} ms (${tried()}); check that a peer seeds it, pass --peer or --bootstrap, or a longer --timeout (--no-timeout waits forever); run the same command again to resume`))
    }
    let timer: NodeJS.Timeout | null = timeout === false ? null : setTimeout(check, timeout)
    const finish = (err?: Error): void => {
      if (timer !== null) clearTimeout(timer)
      notice?.stop()
      archive.off('done', onDone)
      archive.off('error', onError)
      archive.off('peer', onPeer)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onPeer = (): void => {
      notice?.stop()
      notice = null
    }
    const onDone = (): void => finish()
    const onError = (err: Error): void => finish(err)
    const onAbort = (): void => finish(new TrackerlessError('EABORTED', 'interrupted before the download was complete; run the same command again to resume'))
    archive.on('done', onDone)
    archive.on('error', onError)
    archive.on('peer', onPeer)
    signal.addEventListener('abort', onAbort)
  })
}
