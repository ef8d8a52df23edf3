import { StatsEmitter } from './stats-emitter.js'
import { namedPeers } from './torrent-stats.js'
import { checkRateLimits, type RateLimits } from '../swarm/rate-limit.js'

/**
 * archive.pause() and resume(). A torrent has one swarm however many archives it has open, so
 * pausing one archive pauses the torrent for all of them. While paused its peers are closed, no
 * peer is dialled or accepted and discovery stops looking for more; verified pieces stay on disk
 * and in memory, and reads wait. resume() dials the peers the user named at once (discovery and
 * incoming peers come back by themselves).
 */
export class TransferControl extends StatsEmitter {
  /** True while this archive's torrent is paused. */
  get paused (): boolean {
    return this.currentSwarm?.paused === true
  }

  /** Closes the torrent's connections and dials no more until resume(); no-op for a draft. */
  pause (): void {
    const swarm = this.currentSwarm
    if (swarm === null || swarm.paused) return
    swarm.paused = true
    for (const peer of [...swarm.peers]) peer.destroy()
  }

  /** Lets the torrent connect again, dialling the named peers now. */
  resume (): void {
    const swarm = this.currentSwarm
    if (swarm === null || !swarm.paused) return
    swarm.paused = false
    for (const address of namedPeers(swarm)) swarm.connect(address)
  }

  /** This torrent's own rate limits, bytes per second (0: none); the client's apply too. */
  get limits (): Required<RateLimits> {
    return this.currentSwarm?.rates?.limits ?? { downloadLimit: 0, uploadLimit: 0 }
  }

  /**
   * Sets this torrent's download and upload limits in bytes per second (0: none; one left out
   * stays as it is), for every archive of the torrent; the client's limits apply as well.
   * Throws ERR_INVALID_ARG_VALUE for a negative or NaN one. No-op for a draft not seeded.
   */
  setLimits (limits: RateLimits): void {
    const checked = checkRateLimits(limits)
    this.currentSwarm?.rates?.set(checked)
  }
}
