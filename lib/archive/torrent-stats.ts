import type { Swarm } from '../swarm/swarm.js'
import type { WebSeedState } from '../webseed/web-seeds.js'

/** Where a connected peer came from. An outgoing peer neither named nor found by the DHT or LSD
 *  was told of by another peer (PEX). */
export type PeerOrigin = 'named' | 'discovery' | 'pex' | 'incoming'

/** What `archive.stats()` (and its 'stats' event) report. Speeds are bytes per second over the
 *  last 5 s of the peers connected now. */
export interface TorrentStats {
  /** Bytes of piece data received (including any that failed verification) and sent. */
  downloaded: number
  uploaded: number
  downloadSpeed: number
  uploadSpeed: number
  /** uploaded / downloaded; 0 while nothing was downloaded. */
  ratio: number
  /** Seconds until every piece is here (every piece of the selected files, when a selection is
   *  set) at the current download speed: 0 when complete, Infinity while nothing arrives. */
  eta: number
  peers: { total: number, bySource: Record<PeerOrigin, number>, byTransport: Record<'tcp', number> }
  /** The torrent's BEP19 mirrors (url-list) and how each fares; `downloaded` includes their bytes. */
  webSeeds: WebSeedState[]
}

/** Addresses the client dialled by name or after discovery, per swarm; oldest dropped past this. */
const MAX_NOTED = 2000
const noted = new WeakMap<Swarm, Map<string, 'named' | 'discovery'>>()

/** Remembers that the client dialled `address` for `swarm` because the user named it or discovery found it. */
export function notePeerOrigin (swarm: Swarm, address: string, origin: 'named' | 'discovery'): void {
  let map = noted.get(swarm)
  if (map === undefined) noted.set(swarm, map = new Map())
  if (map.get(address) === 'named') return
  map.delete(address)
  map.set(address, origin)
  if (map.size > MAX_NOTED) map.delete(map.keys().next().value!)
}

/** The addresses the user named for `swarm` (as far as the bound above keeps them). */
export function namedPeers (swarm: Swarm): string[] {
  return [...noted.get(swarm) ?? []].filter(([, origin]) => origin === 'named').map(([address]) => address)
}

export function torrentStats (swarm: Swarm | null): TorrentStats {
  const bySource: Record<PeerOrigin, number> = { named: 0, discovery: 0, pex: 0, incoming: 0 }
  if (swarm === null) return { downloaded: 0, uploaded: 0, downloadSpeed: 0, uploadSpeed: 0, ratio: 0, eta: 0, peers: { total: 0, bySource, byTransport: { tcp: 0 } }, webSeeds: [] }
  const now = Date.now()
  const origins = noted.get(swarm)
  let downloadSpeed = 0
  let uploadSpeed = 0
  for (const peer of swarm.peers) {
    downloadSpeed += peer.download.get(now)
    uploadSpeed += peer.upload.get(now)
    bySource[peer.outgoing ? origins?.get(peer.address) ?? 'pex' : 'incoming']++
  }
  const { downloaded, uploaded } = swarm
  const missing = missingBytes(swarm)
  return {
    downloaded,
    uploaded,
    downloadSpeed,
    uploadSpeed,
    ratio: downloaded === 0 ? 0 : uploaded / downloaded,
    eta: missing === 0 ? 0 : downloadSpeed === 0 ? Infinity : missing / downloadSpeed,
    peers: { total: swarm.peers.size, bySource, byTransport: { tcp: swarm.peers.size } },
    webSeeds: swarm.download?.webSeeds?.states ?? []
  }
}

/** Bytes of the pieces not verified yet, of the selected files' when a selection is set (all of
 *  them before the metadata is known: unknown, so Infinity). */
function missingBytes (swarm: Swarm): number {
  const meta = swarm.metainfo
  const have = swarm.have
  if (meta === null || have === null) return Infinity
  const selection = swarm.download?.selection
  if (selection?.active === true) return selection.missingBytes(have)
  const last = meta.pieceCount - 1
  const lastSize = meta.length - last * meta.pieceLength
  const verified = have.count * meta.pieceLength - (have.get(last) ? meta.pieceLength - lastSize : 0)
  return meta.length - verified
}
