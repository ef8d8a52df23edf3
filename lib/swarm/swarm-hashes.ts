import { createHash } from 'node:crypto'
import { asInfoHash, type InfoHash } from '../util/ids.js'
import type { Metainfo } from '../metainfo/types.js'

/** Addresses remembered with the hash they were found under; older ones fall back to the primary. */
const MAX_REMEMBERED = 4096

/**
 * The 20-byte hashes one torrent is known by on the wire and in the DHT: its primary (what the
 * swarm was opened with) and, for a hybrid (BEP52), the other of its v1 SHA-1 and truncated v2
 * SHA-256. libtorrent announces a hybrid under both and a peer holding only a btmh magnet knows
 * only the v2 one, so a handshake must name the hash the remote knows: the one it sent us, or the
 * one its address was found under.
 */
export class SwarmHashes {
  readonly primary: InfoHash
  /** The full 32-byte v2 infohash when known (a btmh magnet, a hybrid's metainfo). */
  private v2: Buffer | undefined
  private readonly others = new Map<string, InfoHash>()
  private readonly found = new Map<string, InfoHash>()

  constructor (primary: InfoHash, v2?: Buffer) {
    this.primary = primary
    this.v2 = v2
    if (v2 !== undefined) this.add(asInfoHash(v2.subarray(0, 20)))
  }

  /** What BEP9 metadata must hash to: the full v2 infohash when the swarm runs on its truncation
   *  (a btmh magnet: SHA-256 of the info dictionary), else the primary. */
  get metadataHash (): Buffer {
    return this.v2 !== undefined && this.v2.subarray(0, 20).equals(this.primary) ? this.v2 : this.primary
  }

  /** Every hash but the primary. */
  get aliases (): InfoHash[] {
    return [...this.others.values()]
  }

  /** The metadata arrived: a hybrid is known by both its hashes. Returns the hashes new to us. */
  learn (meta: Pick<Metainfo, 'version' | 'infoHash' | 'infoHashV2'>): InfoHash[] {
    if (meta.version !== 'hybrid' || meta.infoHashV2 === undefined) return []
    this.v2 ??= meta.infoHashV2
    return [meta.infoHash, asInfoHash(meta.infoHashV2.subarray(0, 20))].filter((hash) => this.add(hash))
  }

  /** Whether a handshake naming `hash` is ours. */
  answers (hash: Uint8Array): boolean {
    return this.primary.equals(hash) || this.others.has(Buffer.from(hash).toString('hex'))
  }

  /** The DHT or LSD found `address` under `hash`. */
  foundUnder (address: string, hash: InfoHash): void {
    this.found.delete(address)
    if (hash.equals(this.primary)) return
    if (this.found.size >= MAX_REMEMBERED) this.found.delete(this.found.keys().next().value!)
    this.found.set(address, hash)
  }

  /** The hash to name in a handshake to `address`. */
  forAddress (address: string): InfoHash {
    return this.found.get(address) ?? this.primary
  }

  private add (hash: InfoHash): boolean {
    const key = hash.toString('hex')
    if (hash.equals(this.primary) || this.others.has(key)) return false
    this.others.set(key, hash)
    return true
  }
}

/** Whether `info` is the info dictionary `expected` names: a 32-byte v2 infohash by SHA-256; a
 *  20-byte one by SHA-1, or by truncated SHA-256 (a v2 torrent's hash on the wire, as parseInfo). */
export function infoMatches (info: Buffer, expected: Buffer): boolean {
  if (expected.length === 20 && createHash('sha1').update(info).digest().equals(expected)) return true
  return createHash('sha256').update(info).digest().subarray(0, expected.length).equals(expected)
}
