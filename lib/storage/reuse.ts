import type { FileEntry } from '../metainfo/types.js'
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
  // A v2-only torrent has no SHA-1s to match: only its roots can say what is unchanged.
  if (targetHashes.length === 0 || source.pieceHashes.length === 0) return await reuseByRoot(source, target, targetHave)
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
  return copied + await reuseByRoot(source, target, targetHave)
}

function fileKey (file: FileEntry): string {
  return `${file.root!.toString('hex')}:${file.length}`
}

/** True when `source` holds every piece that covers `file`. */
function holdsFile (source: PieceSource, file: FileEntry): boolean {
  const pieceLength = source.storage.map.layout.pieceLength
  for (let p = Math.floor(file.offset / pieceLength); p * pieceLength < file.offset + file.length; p++) {
    if (!source.have.get(p)) return false
  }
  return true
}

/** Reads `length` bytes of `file` from `at` out of the source, piece by piece. */
async function readFileBytes (source: PieceSource, file: FileEntry, at: number, into: Buffer, length: number): Promise<void> {
  const pieceLength = source.storage.map.layout.pieceLength
  let done = 0
  while (done < length) {
    const offset = file.offset + at + done
    const piece = Math.floor(offset / pieceLength)
    const begin = offset - piece * pieceLength
    const take = Math.min(length - done, pieceLength - begin)
    const data = await source.storage.read(piece, begin, take)
    data.copy(into, done)
    done += take
  }
}

/**
 * BEP52: a file keeps its merkle root across versions of an archive, and in a v2 or hybrid
 * torrent it starts a piece, followed only by zeros up to the next piece. So a file whose root
 * (and length) the old version holds is copied whole from it, whatever the piece lengths of the
 * two versions; each piece is verified against the new torrent's SHA-1 before it is written (a
 * v2-only target, which has none, is left to the v2 wire). Copies, never hard links: the old
 * version's files may still change under its own swarm.
 */
async function reuseByRoot (source: PieceSource, target: TorrentStorage, targetHave: Bitfield): Promise<number> {
  const sourceFiles = new Map<string, FileEntry>()
  for (const file of source.storage.map.layout.files) {
    if (!file.pad && file.root !== undefined && file.length > 0 && holdsFile(source, file)) sourceFiles.set(fileKey(file), file)
  }
  if (sourceFiles.size === 0 || !target.hasHashes()) return 0
  const pieceLength = target.map.layout.pieceLength
  let copied = 0
  for (const file of target.map.layout.files) {
    if (file.pad || file.root === undefined || file.length === 0 || file.offset % pieceLength !== 0) continue
    const from = sourceFiles.get(fileKey(file))
    if (from === undefined) continue
    for (let i = file.offset / pieceLength; i * pieceLength < file.offset + file.length; i++) {
      if (targetHave.get(i)) continue
      const at = i * pieceLength - file.offset
      // The rest of the piece past the file's end is pad: zeros.
      const data = Buffer.alloc(target.pieceSize(i))
      await readFileBytes(source, from, at, data, Math.min(data.length, file.length - at))
      if (!await target.verify(i, data)) continue
      await target.writePiece(i, data)
      targetHave.set(i)
      copied++
    }
  }
  return copied
}
