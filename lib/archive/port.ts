/**
 * The narrow port an Archive reads a torrent through: its identity and counters, whether a
 * piece is here, reading and awaiting pieces, putting pieces first, and its events. The swarm
 * implements it; the archive never sees storage, bitfields or peers' state.
 */
import type { Metainfo } from '../metainfo/types.js'
import type { InfoHash } from '../util/ids.js'

/** What the archive hears of its torrent. */
export interface TorrentPortListeners {
  piece (index: number): void
  done (): void
  peer (address: string): void
  error (err: Error): void
}

/** @internal */
export interface TorrentPort {
  readonly infoHash: InfoHash
  /** Known once `ready`; the client hands archives only torrents that are. */
  readonly metainfo: Metainfo | null
  /** Metadata and storage exist: pieces can be read. */
  readonly ready: boolean
  readonly peers: ReadonlySet<{ readonly address: string }>
  readonly downloaded: number
  readonly uploaded: number
  readonly progress: number
  /** Every piece is here. */
  isSeed (): boolean
  hasPiece (index: number): boolean
  /** Bytes of a verified piece, from storage. */
  readPiece (index: number, begin: number, length: number): Promise<Buffer>
  waitForPiece (index: number, signal?: AbortSignal): Promise<void>
  prioritize (first: number, last: number): () => void
  /** Calls `listeners` on the torrent's events until the returned function is called. */
  listen (listeners: TorrentPortListeners): () => void
}
