import type RandomAccessStorage from 'random-access-storage'

/** Makes the storage for one file of a torrent; `path` is '/'-separated and relative (for a
 *  multi-file torrent it starts with the torrent's name). random-access-file and
 *  random-access-memory instances both fit. A storage that allocates the buffers it reads into
 *  may take them from `options.alloc` (random-access-file's `alloc` option), so that they are reused. */
export type StorageFactory = (path: string, options?: StorageOptions) => RandomAccessStorage

export interface StorageOptions {
  /** Makes the buffer for a read of `size` bytes. */
  alloc?: (size: number) => Buffer
}

export type { RandomAccessStorage }
