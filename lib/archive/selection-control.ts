import { TransferControl } from './transfer-control.js'
import { checkPath } from './args.js'
import type { FilePriority } from '../swarm/selection.js'

export type { FilePriority }

/**
 * archive.download(), deselect() and setPriority(): which files the torrent fetches in the
 * background (swarm/selection.ts). A torrent has one selection for all its open archives, as it
 * has one swarm. Reads are not limited by it: reading a deselected file fetches what it reads.
 * A draft holds every file, so these do nothing there.
 */
export class SelectionControl extends TransferControl {
  /** Fetches `path` (a file, or every file below a folder; '/' is all) in the background. */
  download (path: string): void {
    this.setPriority(path, 'normal')
  }

  /** Stops fetching `path` in the background; pieces it shares with selected files still come. */
  deselect (path: string): void {
    this.setPriority(path, 'skip')
  }

  /**
   * 'high': fetched before the other files, in order; 'normal': rarest first; 'skip': not in the
   * background (as deselect). Once a selection is set, `progress`, ETA and 'done' count the
   * selected files only. Throws ENOENT when `path` is not in the archive, ECLOSED after close().
   */
  setPriority (path: string, priority: FilePriority): void {
    checkPath(path)
    this.assertOpen()
    const swarm = this.currentSwarm
    if (swarm === null || swarm.download === null) return
    swarm.download.select(path, priority)
    if (!swarm.isSeed()) this.goalReopened()
  }

  /** @internal ECLOSED after close(); the Archive says. */
  protected assertOpen (): void {}

  /** @internal The selection grew past what is held: 'done' may be emitted again. */
  protected goalReopened (): void {}
}
