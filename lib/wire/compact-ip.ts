/**
 * IP addresses in the compact byte form of BEP7, BEP10, BEP11 and BEP23: 4 bytes for IPv4,
 * 16 for IPv6, network order.
 */

/** 4 bytes for a dotted quad, 16 for any IPv6 address (an IPv4-mapped one included); null for
 *  anything that is not an IP address. */
export function ipToBytes (host: string): Buffer | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    const parts = host.split('.').map(Number)
    return parts.every((n) => n <= 255) ? Buffer.from(parts) : null
  }
  if (!host.includes(':')) return null
  // The URL parser validates the address and prints it canonical; a mapped IPv4 comes out hex.
  let text: string
  try {
    text = new URL(`http://[${host}]/`).hostname.slice(1, -1)
  } catch {
    return null
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const front = head === '' ? [] : head.split(':')
  const back = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? front : [...front, ...new Array<string>(8 - front.length - back.length).fill('0'), ...back]
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

const MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])

/** As ipToBytes, but an IPv4-mapped IPv6 address (how a dual-stack socket reports an IPv4 peer)
 *  gives its 4 IPv4 bytes: the address the peer itself knows. */
export function ipToCompact (host: string): Buffer | null {
  const bytes = ipToBytes(host)
  if (bytes?.length === 16 && bytes.subarray(0, 12).equals(MAPPED_PREFIX)) return Buffer.from(bytes.subarray(12))
  return bytes
}

/** The text form of the `size` bytes at `at`: a dotted quad, or IPv6 in its canonical compressed form. */
export function ipFromBytes (buf: Uint8Array, at: number, size: 4 | 16): string {
  if (size === 4) return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((buf[at + i]! << 8) | buf[at + i + 1]!).toString(16))
  // The URL parser prints IPv6 in its canonical compressed form, the form sockets report.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}
