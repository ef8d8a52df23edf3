import type RandomAccessStorage from 'random-access-storage'

/** Makes the storage for one file of a torrent; `path` is '/'-separated and relative (for a
 *  multi-file torrent it starts with the torrent's name). random-access-file and
 *  random-access-memory instances both fit. */
export type StorageFactory = (path: string) => RandomAccessStorage

export type { RandomAccessStorage }
