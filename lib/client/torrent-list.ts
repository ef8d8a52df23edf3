import fs from 'node:fs/promises'
import type { Metainfo } from '../metainfo/types.js'
import type { Swarm } from '../swarm/swarm.js'
import type { StorageFactory, TorrentStorageFactory } from '../storage/types.js'
import { resumePath } from '../storage/resume-data.js'
import { notePeerOrigin, torrentStats, type TorrentStats } from '../archive/torrent-stats.js'

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
  /** What its archives' stats() give. */
  stats: TorrentStats
}

/** What `client.stats()` gives: the sums over the open torrents. */
export interface ClientStats {
  downloaded: number
  uploaded: number
  downloadSpeed: number
  uploadSpeed: number
  /** uploaded / downloaded; 0 while nothing was downloaded. */
  ratio: number
  torrents: number
  /** Peer connections, summed over the torrents. */
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
    stats: torrentStats(swarm)
  }
}

export function clientStats (swarms: Swarm[]): ClientStats {
  const sum: ClientStats = { downloaded: 0, uploaded: 0, downloadSpeed: 0, uploadSpeed: 0, ratio: 0, torrents: swarms.length, peers: 0 }
  for (const swarm of swarms) {
    const s = torrentStats(swarm)
    sum.downloaded += s.downloaded
    sum.uploaded += s.uploaded
    sum.downloadSpeed += s.downloadSpeed
    sum.uploadSpeed += s.uploadSpeed
    sum.peers += s.peers.total
  }
  sum.ratio = sum.downloaded === 0 ? 0 : sum.uploaded / sum.downloaded
  return sum
}

/** Dials a peer the user named (lookup's or seed's `peers`, a magnet's x.pe). */
export function dialNamed (swarm: Swarm, address: string): void {
  notePeerOrigin(swarm, address, 'named')
  swarm.connect(address)
}

/** Dials a peer the DHT or LSD found. */
export function dialDiscovered (swarm: Swarm, address: string): void {
  notePeerOrigin(swarm, address, 'discovery')
  swarm.connect(address, 'discovered')
}

/**
 * Deletes what `storage` downloaded of `meta` (only a directory storage deletes anything: memory
 * is freed at close, and the files of a seeded path are the user's) and the resume data.
 */
export async function deleteTorrentData (storage: StorageFactory, stateDir: string | undefined, meta: Metainfo): Promise<string[]> {
  const infoHash = meta.infoHash.toString('hex')
  // Resume data is kept under the hash the torrent was opened by: a hybrid's v2 one for a btmh magnet.
  const opened = [infoHash, ...(meta.infoHashV2 !== undefined ? [meta.infoHashV2.subarray(0, 20).toString('hex')] : [])]
  if (stateDir !== undefined) for (const hash of opened) await fs.rm(resumePath(stateDir, hash), { force: true })
  const remove = (storage as TorrentStorageFactory).deleteTorrent
  return remove === undefined ? [] : await remove({ infoHash, name: meta.name, multiFile: meta.multiFile, files: meta.files })
}
