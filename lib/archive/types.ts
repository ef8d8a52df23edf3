import type { Swarm } from '../swarm/swarm.js'
import type { TorrentStats } from './torrent-stats.js'

/** The events an Archive emits, with their arguments. */
export interface ArchiveEvents {
  /** A piece was verified and stored; the arguments are the new `archive.progress` (0 to 1) and
   *  that piece's index (a verified piece is on disk, so a restart finds it). */
  progress: [progress: number, piece: number]
  /** Every piece is verified, or every piece of the selected files when a selection is set (also
   *  emitted once, soon after lookup(), by an archive that opens complete). */
  done: []
  /** A peer connected; the argument is its "host:port". */
  peer: [string]
  /** An archive opened by a mutable link (xs=urn:btpk) moved to a newer version; later reads see it. */
  update: [{ seq: number, infoHash: string }]
  /**
   * Storage failed under the archive. Emitted only when someone listens. After a failed write
   * (disk full) the download stops for good; close every archive of the torrent and look it up
   * again once there is space: stored pieces are found, not fetched again.
   */
  error: [Error]
  /** Every second while someone listens: what `archive.stats()` gives. */
  stats: [TorrentStats]
}

/** Options of `archive.readFile()`. */
export interface ReadFileOptions {
  /** Decode the bytes into a string; null or absent gives a Buffer. */
  encoding?: BufferEncoding | null
  /** Aborting rejects the read with EABORTED and stops prioritising its pieces. */
  signal?: AbortSignal
}

/** Options of `archive.readdir()`. */
export interface ReaddirOptions {
  /** Dirent objects instead of names. */
  withFileTypes?: boolean
  /** Every entry below the folder: names are then paths relative to it ('docs/a.pdf'). */
  recursive?: boolean
}

/** Options of `archive.createReadStream()`. */
export interface ReadStreamOptions {
  /** First byte, default 0. */
  start?: number
  /** Last byte, inclusive as in node:fs; default the end of the file. */
  end?: number
  /** Aborting destroys the stream with EABORTED and stops prioritising its pieces. */
  signal?: AbortSignal
  /** Chunks come out as strings in this encoding (as stream.setEncoding()). */
  encoding?: BufferEncoding | null
  /** Bytes per chunk at most, and the stream's buffer, as in node:fs (default 64 KiB there; here a piece, at most 1 MiB). */
  highWaterMark?: number
}

/** Options of `archive.stat()` / `lstat()`; `bigint: true` is refused (ERR_INVALID_ARG_VALUE): sizes fit a number. */
export interface StatOptions {
  bigint?: boolean
}

/** Options of `archive.mkdir()` on a draft; folders are always made recursively. */
export interface MakeDirectoryOptions {
  recursive?: boolean
  /** Accepted for node:fs compatibility; a torrent keeps no modes. */
  mode?: number | string
}

/** Options of `archive.writeFile()` on a draft. */
export interface WriteFileOptions {
  /** How a string is encoded; default 'utf8'. */
  encoding?: BufferEncoding
}

/** @internal What the client gives an archive it opened: a swarm whose metadata and storage are ready. */
export interface ArchiveBacking {
  /** The archive uses it only as a TorrentPort (port.ts); the client reads more of it. */
  swarm: Swarm
  close: () => Promise<void>
  /** The mutable link the archive was opened by, which its `url` keeps across versions. */
  link?: string
}
