import fs from 'node:fs/promises'

/**
 * The IPv4 default gateway, from the kernel's routing table (Linux's /proc/net/route: hex fields,
 * little-endian addresses); null where there is none or the file is not there (other systems).
 */
export async function defaultGateway (routes = '/proc/net/route'): Promise<string | null> {
  let text: string
  try {
    text = await fs.readFile(routes, 'utf8')
  } catch {
    return null
  }
  for (const line of text.split('\n').slice(1)) {
    const [, destination, gateway, flags] = line.trim().split(/\s+/)
    // RTF_UP (1) and RTF_GATEWAY (2), destination 0.0.0.0: the default route.
    if (destination !== '00000000' || gateway === undefined || flags === undefined) continue
    if ((parseInt(flags, 16) & 3) !== 3) continue
    const n = parseInt(gateway, 16)
    if (!Number.isFinite(n) || n === 0) continue
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.')
  }
  return null
}
