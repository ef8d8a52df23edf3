import fs from 'node:fs/promises'
import { parseMagnet, parseInfoHash, magnetInfoHash } from '../metainfo/magnet.js'
import { parseTorrent } from '../metainfo/torrent.js'
import type { MagnetLink, Metainfo } from '../metainfo/types.js'
import type { InfoHash } from '../util/ids.js'
import { fail } from '../errors.js'
import { refuseV2Only } from '../metainfo/v2-support.js'

/** What lookup() was given, reduced to what opening a torrent needs. */
export type Target =
  | { kind: 'torrent', infoHash: InfoHash, metainfo: Metainfo, peers: string[] }
  /** `infoHash` names the swarm: the btih, or a btmh-only magnet's v2 infohash truncated; `infoHashV2`
   *  is the full btmh, which BEP9 metadata must hash to (SHA-256) when it is the only one. */
  | { kind: 'infohash', infoHash: InfoHash, infoHashV2?: Buffer, name?: string, peers: string[], select?: number[], webSeeds?: string[] }
  | { kind: 'mutable', link: MagnetLink }

/** A magnet link, a bare infohash, a .torrent's bytes or its path. */
export async function resolveTarget (url: string | Uint8Array): Promise<Target> {
  if (typeof url !== 'string') {
    const metainfo = parseTorrent(url)
    refuseV2Only(metainfo)
    return { kind: 'torrent', infoHash: metainfo.infoHash, metainfo, peers: [] }
  }
  const text = url.trim()
  if (text.toLowerCase().startsWith('magnet:')) {
    const link = parseMagnet(text)
    const infoHash = magnetInfoHash(link)
    if (infoHash === undefined) return { kind: 'mutable', link }
    return { kind: 'infohash', infoHash, ...(link.infoHashV2 !== undefined ? { infoHashV2: link.infoHashV2 } : {}), ...(link.name !== undefined ? { name: link.name } : {}), peers: link.peers, ...(link.select !== undefined ? { select: link.select } : {}), ...(link.webSeeds !== undefined ? { webSeeds: link.webSeeds } : {}) }
  }
  if (/^[0-9a-f]{40}$/i.test(text) || /^[a-z2-7]{32}$/i.test(text)) {
    return { kind: 'infohash', infoHash: parseInfoHash(text), peers: [] }
  }
  const bytes = await fs.readFile(text).catch(() => null)
  if (bytes === null) {
    fail('EINVALIDURL', `"${text.slice(0, 200)}" is not a magnet link, an infohash or a readable .torrent file`)
  }
  const metainfo = parseTorrent(bytes)
  refuseV2Only(metainfo)
  return { kind: 'torrent', infoHash: metainfo.infoHash, metainfo, peers: [] }
}
