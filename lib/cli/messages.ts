import { TrackerlessError } from '../errors.js'
import type { CommonOptions, OutputFlags } from './common.js'

/**
 * The library's errors speak its API ("raise { timeout }", "dht: false"); a shell user needs the flag
 * to pass instead. Codes are kept, so --json consumers and exit codes see no change.
 */
export function inCliWords (err: unknown, o: OutputFlags & Partial<CommonOptions>): unknown {
  const errno = err as NodeJS.ErrnoException & { port?: number }
  if (errno?.code === 'EADDRINUSE') {
    const flag = errno.port !== undefined && errno.port === o.dhtPort ? '--dht-port' : errno.port !== undefined && errno.port === o.torrentPort ? '--torrent-port' : '--port'
    // Still the system's EADDRINUSE (not a TrackerlessError code): --json consumers see the code they saw before.
    return Object.assign(new Error(`port ${errno.port ?? '?'} is in use; pass ${flag} with another port (0: any free one)`, { cause: err }), { code: 'EADDRINUSE', port: errno.port })
  }
  if (!(err instanceof TrackerlessError)) return err
  const message = err.message
    .replace(/, or raise \{ timeout \}$/, ', or pass a longer --timeout')
    .replace(/\(dht: false\); create it with a bootstrap list$/, '(--no-dht); drop --no-dht, or pass --bootstrap HOST:PORT for a private DHT')
  return message === err.message ? err : new TrackerlessError(err.code, message, { cause: err })
}
