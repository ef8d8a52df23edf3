import type RandomAccessStorage from 'random-access-storage'
import type { OwnedTorrent } from './ownership.js'

/** Makes the storage for one file of a torrent; `path` is '/'-separated and relative (for a
 *  multi-file torrent it starts with the torrent's name). random-access-file and
 *  random-access-memory instances both fit. A storage that allocates the buffers it reads into
 *  may take them from `options.alloc` (random-access-file's `alloc` option), so that they are reused. */
export type StorageFactory = (path: string, options?: StorageOptions) => RandomAccessStorage

/** A factory that must take its place on disk before it opens a torrent's files (directoryStorage:
 *  the torrent's own folder or file, see ownership.ts). forTorrent() may refuse (EEXIST, ELOOP). */
export interface TorrentStorageFactory extends StorageFactory {
  forTorrent?: (torrent: OwnedTorrent) => Promise<StorageFactory>
  /** Deletes the files of `torrent` that this storage created (delete-owned.ts); the paths deleted. */
  deleteTorrent?: (torrent: OwnedTorrent) => Promise<string[]>
}

export interface StorageOptions {
  /** Makes the buffer for a read of `size` bytes. */
  alloc?: (size: number) => Buffer
}

export type { RandomAccessStorage }
