import { ExternalAddressVote, isPublicAddress } from '../discovery/dht-identity.js'
import type { Discovery } from '../discovery/discovery.js'

/**
 * Our public IPv4 address, from the best source that has one: the router that mapped our port
 * (it knows), else the DHT's vote (BEP42 `ip` in answers to our queries, and peers' `yourip`),
 * else the peers' `yourip` alone (a client without the DHT). Votes count only once
 * VOTES_NEEDED distinct addresses agree, so one peer cannot move it.
 */
export class ExternalAddress {
  private readonly peers = new ExternalAddressVote(() => {})
  private readonly peers6 = new ExternalAddressVote(() => {}, 6)

  constructor (private readonly router: () => string | null, private readonly discovery: () => Discovery | null, private readonly host: () => string | undefined = () => undefined) {}

  get address (): string | null {
    return this.router() ?? this.discovery()?.externalAddress ?? this.peers.address
  }

  /**
   * Our global IPv6 address (BEP7's `ipv6`): the one we listen on, else as the IPv6 DHT node's
   * voters agree, else as peers' `yourip` votes agree; null while none is known.
   */
  get address6 (): string | null {
    const host = this.host()
    if (host !== undefined && isPublicAddress(host, 6)) return host
    return this.discovery()?.externalAddress6 ?? this.peers6.address
  }

  /**
   * A peer at `from` (an IP) told us, in its extended handshake, that we are `ip`; a peer can
   * only see our address of the family it reached us over, so any other is no vote.
   */
  readonly report = (ip: string, from: string): void => {
    if (ip.includes(':') !== from.includes(':')) return
    ;(ip.includes(':') ? this.peers6 : this.peers).add(ip, from)
    this.discovery()?.reportExternalAddress(ip, from)
  }

  /** What a swarm needs of it: the `yourip` votes in, our IPv6 address out. */
  readonly swarmHooks = { reportAddress: this.report, ownIpv6: (): string | null => this.address6 }
}
