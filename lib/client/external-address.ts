import { ExternalAddressVote } from '../discovery/dht-identity.js'
import type { Discovery } from '../discovery/discovery.js'

/**
 * Our public IPv4 address, from the best source that has one: the router that mapped our port
 * (it knows), else the DHT's vote (BEP42 `ip` in answers to our queries, and peers' `yourip`),
 * else the peers' `yourip` alone (a client without the DHT). Votes count only once
 * VOTES_NEEDED distinct addresses agree, so one peer cannot move it.
 */
export class ExternalAddress {
  private readonly peers = new ExternalAddressVote(() => {})

  constructor (private readonly router: () => string | null, private readonly discovery: () => Discovery | null) {}

  get address (): string | null {
    return this.router() ?? this.discovery()?.externalAddress ?? this.peers.address
  }

  /** A peer at `from` (an IP) told us, in its extended handshake, that we are `ip`. */
  readonly report = (ip: string, from: string): void => {
    this.peers.add(ip, from)
    this.discovery()?.reportExternalAddress(ip, from)
  }
}
