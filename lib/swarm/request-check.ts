import { TrackerlessError } from '../errors.js'
import type { BlockRequest } from './peer.js'
import { MAX_REQUEST, UPLOAD_QUEUE } from './tuning.js'

/**
 * Why a peer's request is worth a disconnect, or null when it may be answered (a piece we lack is
 * not: that is an ordinary race with our HAVEs, answered by a reject). Asking for what cannot
 * exist, or more than the reqq we announced, is a broken or hostile peer.
 */
export function badRequest (req: BlockRequest, pieceCount: number, pieceSize: (index: number) => number, queued: number, address: string): TrackerlessError | null {
  const inRange = req.index < pieceCount && req.length > 0 && req.length <= MAX_REQUEST && req.begin + req.length <= pieceSize(req.index)
  if (inRange && queued < UPLOAD_QUEUE) return null
  return new TrackerlessError('EPROTO', inRange
    ? `peer ${address} sent more than the ${UPLOAD_QUEUE} requests we accept at once; disconnected`
    : `peer ${address} asked for bytes ${req.begin}+${req.length} of piece ${req.index}, outside the torrent; disconnected`)
}
