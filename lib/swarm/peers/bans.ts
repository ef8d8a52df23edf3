/** Bans kept at most; past it the oldest is forgotten, so that a peer cycling through addresses
 *  or ids cannot grow this without bound. */
export const MAX_BANS = 1_000

/**
 * The addresses and peer ids a torrent will not talk to again, each with the reason it was
 * banned: the reason is what a user (or a test) asks to learn why a peer is gone.
 */
export class BanBook {
  private readonly reasons = new Map<string, string>()

  /** Bans `address`, and `peerId` (hex) when known, for `reason`. */
  ban (address: string, reason: string, peerId?: string): void {
    for (const key of peerId === undefined ? [address] : [address, `id:${peerId}`]) {
      this.reasons.delete(key)
      this.reasons.set(key, reason)
    }
    while (this.reasons.size > MAX_BANS) this.reasons.delete(this.reasons.keys().next().value!)
  }

  /** Why `address` (or, given, the peer id in hex) was banned; undefined when it was not. */
  reason (address: string, peerId?: string): string | undefined {
    return this.reasons.get(address) ?? (peerId === undefined ? undefined : this.reasons.get(`id:${peerId}`))
  }

  get size (): number {
    return this.reasons.size
  }
}
