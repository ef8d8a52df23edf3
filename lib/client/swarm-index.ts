import type { Swarm } from '../swarm/swarm.js'
import type { SwarmHashes } from '../swarm/swarm-hashes.js'
import type { Wire } from '../wire/wire.js'
import type { Handshake } from '../wire/handshake.js'
import type { Discovery } from '../discovery/discovery.js'
import type { InfoHash } from '../util/ids.js'
import { dialDiscovered } from './torrent-list.js'

export interface Indexed { swarm: Swarm, hashes: SwarmHashes }

/**
 * A client's open torrents by the hex of their primary hash (the Map), and by every other hash
 * they are known by (a hybrid's v1 and truncated v2, BEP52): `get` finds either, so a handshake
 * (`route`), an MSE SKEY (`infoHashes`) or a second lookup under the other hash reaches the one
 * swarm. Each extra hash is announced and looked up too (DHT, LSD), as libtorrent does, and the
 * peers found under it are dialled with it.
 */
export class SwarmIndex<E extends Indexed> extends Map<string, E> {
  private readonly aliases = new Map<string, E>()

  override get (key: string): E | undefined {
    return super.get(key) ?? this.aliases.get(key)
  }

  override clear (): void {
    this.aliases.clear()
    super.clear()
  }

  /** The listener's router: hands the connection to the swarm its handshake names, if any. */
  readonly route = (wire: Wire, hs: Handshake): boolean => {
    const entry = this.get(hs.infoHash.toString('hex'))
    if (entry === undefined) return false
    entry.swarm.accept(wire, hs)
    return true
  }

  /** Every hash a connection may name, for MSE's obfuscated SKEY. */
  readonly infoHashes = (): InfoHash[] => [...this.values()].flatMap((e) => [e.swarm.infoHash, ...e.hashes.aliases])

  /** Files `entry` (already set) under its other hashes now and, for a magnet, once its metadata says it is a hybrid. */
  track (entry: E, discovery: () => Discovery | null): void {
    for (const hash of entry.hashes.aliases) this.alias(entry, hash, discovery())
    entry.swarm.once('metadata', (meta) => {
      if (super.get(entry.swarm.infoHash.toString('hex')) !== entry) return
      for (const hash of entry.hashes.learn(meta)) this.alias(entry, hash, discovery())
    })
  }

  /** Takes `entry` out under all its hashes and stops announcing them. */
  remove (entry: E, discovery: Discovery | null): void {
    this.delete(entry.swarm.infoHash.toString('hex'))
    discovery?.leave(entry.swarm.infoHash)
    for (const hash of entry.hashes.aliases) {
      const key = hash.toString('hex')
      if (this.aliases.get(key) !== entry) continue
      this.aliases.delete(key)
      discovery?.leave(hash)
    }
  }

  private alias (entry: E, hash: InfoHash, discovery: Discovery | null): void {
    const key = hash.toString('hex')
    // Another open torrent already goes by it (opened by that hash first): it keeps it.
    if (this.get(key) !== undefined) return
    this.aliases.set(key, entry)
    void discovery?.join(hash, (address) => {
      entry.hashes.foundUnder(address, hash)
      dialDiscovered(entry.swarm, address)
    }, () => entry.swarm.wantsPeers)
  }
}
