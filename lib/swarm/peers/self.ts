import ipaddr from 'ipaddr.js'
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
    const host = ipaddr.fromByteArray([...ip]).toString()
    const count = (votes.get(host) ?? 0) + 1
    votes.set(host, count)
    if (best === null || count > votes.get(best)!) best = host
  }
  return best === null ? null : { host: best, port }
}
