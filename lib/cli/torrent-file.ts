import path from 'node:path'
import { buildMetainfo, readTree } from '../client/build-torrent.js'
import { encodeTorrentFile } from '../metainfo/create.js'
import { directoryStorage } from '../storage/factories.js'

/**
 * The .torrent file of a file or folder, exactly as `client.seed(source)` builds it (same
 * deterministic layout, so the same infohash). The public API gives a magnet link, not the
 * file, so this hashes the data a second time; it runs only when a .torrent file is asked for.
 */
export async function torrentFileOf (source: string): Promise<{ infoHash: string, bytes: Buffer }> {
  const tree = await readTree(source)
  const meta = await buildMetainfo(tree, directoryStorage(path.dirname(path.resolve(source)), { readOnly: true }))
  return { infoHash: meta.infoHash.toString('hex'), bytes: encodeTorrentFile(meta, { 'created by': 'trackerless' }) }
}
