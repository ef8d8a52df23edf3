/**
 * A client-wide cap on open peer connections, shared by all its swarms (each swarm also has
 * its own `maxPeers`). A slot is taken when a connection starts, dialled or accepted, and given
 * back when it closes, whether or not its handshake ever completed.
 */
export class ConnectionSlots {
  readonly max: number
  private used = 0

  constructor (max: number) {
    this.max = max
  }

  get inUse (): number {
    return this.used
  }

  /** Takes a slot, or returns false when all are in use. */
  take (): boolean {
    if (this.used >= this.max) return false
    this.used++
    return true
  }

  give (): void {
    if (this.used > 0) this.used--
  }
}
