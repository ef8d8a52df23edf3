/** What the choker needs to know of a peer; the swarm's peer objects implement it. */
export interface ChokeCandidate {
  /** The peer wants data from us. */
  readonly interested: boolean
  /** Bytes per second we receive from this peer. */
  readonly downloadRate: number
  /** Bytes per second we send to this peer. */
  readonly uploadRate: number
  /** When the connection was made, in ms (Date.now() scale). */
  readonly connectedAt: number
  /** When we last unchoked it, same scale; 0 if never. */
  readonly unchokedAt: number
}

export interface ChooseUnchokedOptions<C extends ChokeCandidate = ChokeCandidate> {
  /** Regular (tit-for-tat) slots. */
  slots: number
  /** True once we have everything we want: rank by how fast they take from us instead. */
  seeding: boolean
  /** The current optimistic unchoke (from pickOptimistic), unchoked on top of the regular slots. */
  optimistic?: C
}

export interface PickOptimisticOptions<C extends ChokeCandidate = ChokeCandidate> {
  /** The current time, ms, on the connectedAt scale. */
  now: number
  /** Peers that are already unchoked (the regular slots): never chosen. */
  exclude?: ReadonlySet<C>
  /** How long a peer counts as newly connected. Default 60 s. */
  newPeerMs?: number
}

/** BEP3 and libtorrent give newly connected peers three chances to one at the optimistic slot. */
const NEW_PEER_WEIGHT = 3

/**
 * Tit-for-tat: the `slots` interested peers that give us the most while we download, or that take
 * the most from us while we seed (libtorrent's fastest-upload mode, which spreads a seed's upload
 * to the peers that can use it), plus the optimistic unchoke. Peers not interested never take a
 * regular slot: they would not use it. Ties (most often peers we choke, all at rate 0) go to the
 * one unchoked longest ago, as libtorrent: by connection order the first peers would win every
 * free slot and the late ones wait for the optimistic unchoke alone.
 */
export function chooseUnchoked<C extends ChokeCandidate> (peers: readonly C[], options: ChooseUnchokedOptions<C>): Set<C> {
  const { slots, seeding, optimistic } = options
  const rate = seeding ? (p: ChokeCandidate) => p.uploadRate : (p: ChokeCandidate) => p.downloadRate
  const ranked = peers.filter((p) => p.interested).sort((a, b) => rate(b) - rate(a) || a.unchokedAt - b.unchokedAt)
  const unchoked = new Set(ranked.slice(0, Math.max(0, slots)))
  if (optimistic !== undefined) unchoked.add(optimistic)
  return unchoked
}

/**
 * A random interested peer outside `exclude`, newly connected peers weighted three to one so that
 * they get a first piece to trade with quickly. Returns undefined when there is none.
 */
export function pickOptimistic<C extends ChokeCandidate> (
  peers: readonly C[],
  random: () => number,
  options: PickOptimisticOptions<C>
): C | undefined {
  const { now, exclude, newPeerMs = 60_000 } = options
  const weightOf = (p: C): number => {
    if (!p.interested || exclude?.has(p) === true) return 0
    return now - p.connectedAt < newPeerMs ? NEW_PEER_WEIGHT : 1
  }
  let total = 0
  for (const p of peers) total += weightOf(p)
  if (total === 0) return undefined
  let ticket = Math.floor(random() * total)
  for (const p of peers) {
    ticket -= weightOf(p)
    if (ticket < 0) return p
  }
  return undefined
}
