import net from 'node:net'
import os from 'node:os'

/** "host:port", with brackets for IPv6: the form peers are dialled by. */
export function formatAddress (host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`
}

const REFRESH = 30_000
let local: Set<string> | null = null
let localAt = 0

/**
 * The addresses of this host's interfaces (and the unspecified ones), refreshed every 30 s:
 * a peer at one of them on our own listen port is us.
 */
export function isLocalAddress (host: string): boolean {
  const now = Date.now()
  if (local === null || now - localAt > REFRESH) {
    local = new Set(['0.0.0.0', '::', 'localhost'])
    for (const list of Object.values(os.networkInterfaces())) {
      for (const info of list ?? []) local.add(info.address)
    }
    localAt = now
  }
  return local.has(host) || host.startsWith('127.') || host === '::ffff:127.0.0.1'
}
