import type { Bitfield } from '../util/bitfield.js'
import type { TorrentStorage } from './torrent-storage.js'

/** A torrent we hold pieces of: where to read them and how to recognise them. */
export interface PieceSource {
  storage: TorrentStorage
  /** Concatenated 20-byte SHA-1s. */
  pieceHashes: Buffer
  have: Bitfield
}

/**
 * Copies into `target` every piece it lacks that `source` holds under the same hash: a new version
 * of an archive gets its unchanged files from the old one instead of the network. Each copy is
 * verified against the target's own hash before it is written. Returns how many were copied.
 */
export async function reusePieces (source: PieceSource, target: TorrentStorage, targetHashes: Buffer, targetHave: Bitfield): Promise<number> {
  const byHash = new Map<string, number>()
  for (let i = 0; i < source.have.length; i++) {
    if (source.have.get(i)) byHash.set(source.pieceHashes.toString('hex', i * 20, i * 20 + 20), i)
  }
  let copied = 0
  for (let i = 0; i < targetHave.length; i++) {
    if (targetHave.get(i)) continue
    const from = byHash.get(targetHashes.toString('hex', i * 20, i * 20 + 20))
    if (from === undefined || source.storage.pieceSize(from) !== target.pieceSize(i)) continue
    const data = await source.storage.read(from, 0, target.pieceSize(i))
    if (!await target.verify(i, data)) continue
    await target.writePiece(i, data)
    targetHave.set(i)
    copied++
  }
  return copied
}
