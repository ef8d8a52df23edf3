import type { Wire } from '../../wire/wire.js'

/**
 * Our address as our peers see it: the `yourip` most of them report in their BEP10 handshake
 * (one lying peer does not decide it), with our listen port. Null until one reports it. It is
 * what BEP40 priorities are computed against.
 */
export function reportedSelf (peers: Iterable<{ wire: Wire }>, port: number): { host: string, port: number } | null {
  const votes = new Map<string, number>()
  let best: string | null = null
  for (const { wire } of peers) {
    const ip = wire.peerExtensions?.yourip
    if (ip === undefined) continue
    const host = ipText(ip)
    const count = (votes.get(host) ?? 0) + 1
    votes.set(host, count)
    if (best === null || count > votes.get(best)!) best = host
  }
  return best === null ? null : { host: best, port }
}

/** 4 bytes as dotted IPv4; 16 as IPv6 in full (an IPv4-mapped one as its IPv4 address). */
function ipText (ip: Buffer): string {
  const v4 = ip.length === 4 ? ip : ip.subarray(0, 12).equals(MAPPED) ? ip.subarray(12) : null
  if (v4 !== null) return v4.join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(ip.readUInt16BE(i).toString(16))
  return groups.join(':')
}

const MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])
