import { magnetInfoHash, parseMagnet, parseInfoHash } from '../metainfo/magnet.js'
import { encodeTorrentFile } from '../metainfo/create.js'
import type { Metainfo } from '../metainfo/types.js'

/** The .torrent file of a torrent a client has open (`link`: its magnet link or infohash); null when it is not open. */
export function torrentFileOf (link: string, metainfoOf: (key: string) => Metainfo | null, createdBy: string): Buffer | null {
  const infoHash = link.toLowerCase().startsWith('magnet:') ? magnetInfoHash(parseMagnet(link)) : parseInfoHash(link)
  const meta = infoHash === undefined ? null : metainfoOf(infoHash.toString('hex'))
  return meta === null ? null : encodeTorrentFile(meta, { 'created by': createdBy })
}
