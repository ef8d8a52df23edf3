/**
 * Test-only access to a running swarm for the BEP52 piece-layer fetch. BEP9 of a v2-only torrent
 * (metadata checked against the truncated SHA-256) is another branch's work: until it lands these
 * helpers stand in for it, handing the info dictionary to the swarm as BEP9 would.
 */
import type { Torrent } from '../../index.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import type { PeerList } from '../../lib/swarm/peer-list.js'
import type { TrackerlessError } from '../../lib/errors.js'

type Result = Map<string, Buffer> | TrackerlessError

interface SwarmInside {
  onMetadata: (info: Buffer) => void
  banReason: PeerList['banReason']
  connections: { metadata: { info: Buffer | null } }
  layers: { opts: { finish: (r: Result) => void } } | null
}

export function swarmOf (torrent: Torrent, meta: Metainfo): SwarmInside {
  const swarms = (torrent as unknown as { swarms: Map<string, { swarm: SwarmInside }> }).swarms
  const entry = swarms.get(meta.infoHash.toString('hex'))
  if (entry === undefined) throw new Error('the torrent has no swarm for this infohash: lookup() it first')
  return entry.swarm
}

/** Gives the swarm the info dictionary as BEP9 would (and stops its own BEP9 fetch), and returns
 *  what the piece-layer fetch then ends with: the layers by hex root, or its error. */
export function deliverMetadata (torrent: Torrent, meta: Metainfo): Promise<Result> {
  const swarm = swarmOf(torrent, meta)
  swarm.connections.metadata.info = meta.info
  swarm.onMetadata(meta.info)
  const fetch = swarm.layers
  if (fetch === null) throw new Error('no piece-layer fetch started: not a v2-only torrent?')
  return new Promise((resolve) => {
    const finish = fetch.opts.finish
    fetch.opts.finish = (result) => {
      resolve(result)
      finish(result)
    }
  })
}

/** The torrent has a swarm for the infohash (lookup() has registered it). */
export function hasSwarm (torrent: Torrent, meta: Metainfo): boolean {
  return (torrent as unknown as { swarms: Map<string, unknown> }).swarms.has(meta.infoHash.toString('hex'))
}

/** Peers connected in the torrent's swarm. */
export function peerCount (torrent: Torrent, meta: Metainfo): number {
  return (swarmOf(torrent, meta) as unknown as { peers: Set<unknown> }).peers.size
}

/** Only stops the swarm's own BEP9 fetch (see deliverMetadata): peers may connect first. */
export function holdMetadata (torrent: Torrent, meta: Metainfo): void {
  swarmOf(torrent, meta).connections.metadata.info = meta.info
}
