import { test } from 'node:test'
import assert from 'node:assert/strict'
import { admit, leastUseful, type EvictionCandidate } from '../../lib/swarm/eviction.js'
import { ConnectionSlots, type Room } from '../../lib/swarm/connection-slots.js'
import type { TrackerlessError } from '../../lib/errors.js'

const AFTER = 1_000
const NOW = 1_000_000

/** What the download would know of the peer: requests either way, reads in flight for it. */
interface Transfers { requests: Map<number, unknown>, uploads: unknown[], uploadsInFlight: number }
type Fake = EvictionCandidate & Transfers & { name: string, reason: TrackerlessError | undefined }

/** A peer whose payload last moved `idleFor` ms before `now`. */
function fake (name: string, idleFor: number, state: Partial<EvictionCandidate & Transfers> = {}, now = NOW): Fake {
  return fakeAt(name, now - idleFor, state)
}

function fakeAt (name: string, lastUsefulAt: number, state: Partial<EvictionCandidate & Transfers> = {}): Fake {
  const peer: Fake = {
    name,
    address: `${name}:1`,
    reason: undefined,
    amInterested: false,
    peerInterested: false,
    requests: new Map(),
    uploads: [],
    uploadsInFlight: 0,
    lastUsefulAt,
    destroy: (err?: Error) => { peer.reason = err as TrackerlessError },
    ...state
  }
  return peer
}

test('a connection in use is never evicted: interest either way, requests either way, or payload within evictAfter', () => {
  const busy = [
    fake('we want', 10 * AFTER, { amInterested: true }),
    fake('it wants', 10 * AFTER, { peerInterested: true }),
    fake('we asked', 10 * AFTER, { requests: new Map([[0, { index: 0, begin: 0, length: 1 }]]) }),
    fake('it asked', 10 * AFTER, { uploads: [{ index: 0, begin: 0, length: 1 }] }),
    fake('sending', 10 * AFTER, { uploadsInFlight: 1 }),
    fake('recent', AFTER - 1)
  ]
  assert.equal(leastUseful(room(...busy), { evictAfter: AFTER }, NOW), null)
  const idle = [fake('idle', AFTER), fake('idler', 3 * AFTER), fake('idlest', 2 * AFTER)]
  assert.equal(leastUseful(room(...busy, ...idle), { evictAfter: AFTER }, NOW)?.name, 'idler')
})

function room (...peers: Fake[]): Room<Fake> {
  const set = new Set(peers)
  const busy = (p: Fake): boolean => p.requests.size > 0 || p.uploads.length > 0 || p.uploadsInFlight > 0
  return { peers: set, forget: (peer) => set.delete(peer), busy }
}

const names = (r: Room<Fake>): string[] => [...r.peers].map((p) => p.name)

test('admit: a full torrent closes its idlest peer with EBUSY for the newcomer; a torrent of busy peers stays full', () => {
  const drops: string[] = []
  const slots = new ConnectionSlots({ maxConnections: 10, evictAfter: AFTER, onDrop: (address, err) => drops.push(`${address} ${err.code}`) })
  // admit looks at the clock: these idle times are measured from it.
  const busy = fake('busy', 10 * AFTER, { peerInterested: true }, Date.now())
  const torrent = room(busy, fake('idle', 2 * AFTER, {}, Date.now()))
  assert.equal(admit(torrent, 3, slots), true, 'room without evicting')
  assert.deepEqual(drops, [])
  assert.equal(admit(torrent, 2, slots), true)
  assert.deepEqual(names(torrent), ['busy'])
  assert.deepEqual(drops, ['idle:1 EBUSY'])
  assert.equal(admit(torrent, 1, slots), false)
  assert.deepEqual(drops, ['idle:1 EBUSY'])
  assert.equal(busy.reason, undefined)
})

test('admit: when the client is full, the idlest connection of any torrent makes room', () => {
  const drops: string[] = []
  const slots = new ConnectionSlots({ maxConnections: 2, evictAfter: AFTER, onDrop: (address, err) => drops.push(`${address} ${err.code}`) })
  const busy = room(fake('busy', 10 * AFTER, { amInterested: true }, Date.now()))
  const idle = room(fake('idle', 2 * AFTER, {}, Date.now()))
  const empty = room()
  for (const r of [busy, idle, empty]) slots.rooms.add(r)
  assert.equal(slots.take(), true)
  assert.equal(slots.take(), true)
  assert.equal(admit(empty, 50, slots), true)
  assert.deepEqual([names(busy), names(idle)], [['busy'], []])
  assert.deepEqual(drops, ['idle:1 EBUSY'])
  assert.equal(admit(empty, 50, slots), false, 'only busy connections are left')
})
