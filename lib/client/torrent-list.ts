import fs from 'node:fs/promises'
import type { Metainfo } from '../metainfo/types.js'
import type { Swarm } from '../swarm/swarm.js'
import type { StorageFactory, TorrentStorageFactory } from '../storage/types.js'
import { resumePath } from '../storage/resume-data.js'

/** One open torrent, as `client.torrents()` lists it. */
export interface TorrentInfo {
  /** 40 hex characters. */
  infoHash: string
  /** Empty while the metadata is not known. */
  name: string
  /** Bytes; 0 while the metadata is not known. */
  length: number
  /** 0..1 of the pieces verified. */
  progress: number
  /** Bytes of piece data received and sent since it was opened. */
  downloaded: number
  uploaded: number
  /** Peers connected now. */
  peers: number
}

/** Options of `client.remove()`. */
export interface RemoveOptions {
  /** Also delete the files this client downloaded for it (never others) and its resume data. */
  deleteData?: boolean
}

export function describeTorrent (swarm: Swarm): TorrentInfo {
  const meta = swarm.metainfo
  return {
    infoHash: swarm.infoHash.toString('hex'),
    name: meta?.name ?? '',
    length: meta?.length ?? 0,
    progress: swarm.progress,
    downloaded: swarm.downloaded,
    uploaded: swarm.uploaded,
    peers: swarm.peers.size
  }
}

/**
 * Deletes what `storage` downloaded of `meta` (only a directory storage deletes anything: memory
 * is freed at close, and the files of a seeded path are the user's) and the resume data.
 */
export async function deleteTorrentData (storage: StorageFactory, stateDir: string | undefined, meta: Metainfo): Promise<string[]> {
  const infoHash = meta.infoHash.toString('hex')
  if (stateDir !== undefined) await fs.rm(resumePath(stateDir, infoHash), { force: true })
  const remove = (storage as TorrentStorageFactory).deleteTorrent
  return remove === undefined ? [] : await remove({ infoHash, name: meta.name, multiFile: meta.multiFile, files: meta.files })
}
