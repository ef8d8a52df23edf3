/** Joins a Download to its torrent's web seeds: what it needs of the download, in one place. */
import type { Metainfo } from '../metainfo/types.js'
import type { TorrentStorage } from '../storage/torrent-storage.js'
import { WebSeeds, type WebSeedPicker, type WebSeedTuning } from './web-seeds.js'

export type { WebSeeds }

export interface WebSeedDownload {
  readonly meta: Metainfo
  readonly picker: WebSeedPicker
  readonly storage: TorrentStorage
  readonly writeError: Error | null
}

export interface WebSeedHooks {
  /** Bytes of piece data arrived from a mirror. */
  received (bytes: number): void
  /** A verified piece from a mirror is written: tell peers, wake reads (as for a peer's piece). */
  stored (index: number): void
  /** Writing a piece failed: downloading stops. */
  failed (err: Error): void
  /** A mirror gave pieces back (it failed): peers idle for want of pieces can take them. */
  abandoned (): void
}

/** The torrent's web seeds, or null when it names none. */
export function attachWebSeeds (download: WebSeedDownload, memoryBudget: number, hooks: WebSeedHooks, tuning?: Partial<WebSeedTuning>): WebSeeds | null {
  const { meta, picker, storage } = download
  const urls = meta.webSeeds ?? []
  if (urls.length === 0 || meta.pieceCount === 0) return null
  const seeds: WebSeeds = new WebSeeds(urls, {
    meta,
    picker,
    maxPieces: Math.max(1, Math.floor(memoryBudget / meta.pieceLength)),
    verify: async (index, data) => await storage.verify(index, data),
    store: async (index, data) => {
      try {
        await storage.writePiece(index, data)
      } catch (err) {
        hooks.failed(err as Error)
        throw err
      }
      if (!seeds.closed) hooks.stored(index)
    },
    received: (bytes) => hooks.received(bytes),
    abandoned: () => hooks.abandoned(),
    stopped: () => download.writeError !== null
  }, tuning)
  // Fetches start only on later turns, so the download has its field set before a piece lands.
  seeds.wake()
  return seeds
}
