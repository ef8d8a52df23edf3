import { test } from 'node:test'
import assert from 'node:assert/strict'
import { leastUseful, makeRoom, type EvictionCandidate } from '../../lib/swarm/eviction.js'
import type { TrackerlessError } from '../../lib/errors.js'

const AFTER = 1_000
const NOW = 1_000_000

type Fake = EvictionCandidate & { name: string, reason: TrackerlessError | undefined }

/** A peer whose payload last moved `idleFor` ms before `now`. */
function fake (name: string, idleFor: number, state: Partial<EvictionCandidate> = {}, now = NOW): Fake {
  return fakeAt(name, now - idleFor, state)
}

function fakeAt (name: string, lastUsefulAt: number, state: Partial<EvictionCandidate> = {}): Fake {
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
  assert.equal(leastUseful(busy, { evictAfter: AFTER }, NOW), null)
  const idle = [fake('idle', AFTER), fake('idler', 3 * AFTER), fake('idlest', 2 * AFTER)]
  assert.equal(leastUseful([...busy, ...idle], { evictAfter: AFTER }, NOW)?.name, 'idler')
})

test('makeRoom closes the idlest peer with EBUSY and tells onDrop; a torrent of busy peers stays full', () => {
  const drops: string[] = []
  const limits = { evictAfter: AFTER, onDrop: (address: string, err: TrackerlessError) => drops.push(`${address} ${err.code}`) }
  // makeRoom looks at the clock: these idle times are measured from it.
  const busy = fake('busy', 10 * AFTER, { peerInterested: true }, Date.now())
  const peers = new Set<Fake>([busy, fake('idle', 2 * AFTER, {}, Date.now())])
  assert.equal(makeRoom(peers, 3, limits, (p) => peers.delete(p)), true, 'room without evicting')
  assert.deepEqual(drops, [])
  assert.equal(makeRoom(peers, 2, limits, (p) => peers.delete(p)), true)
  assert.deepEqual([...peers].map((p) => p.name), ['busy'])
  assert.deepEqual(drops, ['idle:1 EBUSY'])
  assert.equal(makeRoom(peers, 1, limits, (p) => peers.delete(p)), false)
  assert.deepEqual(drops, ['idle:1 EBUSY'])
  assert.equal(busy.reason, undefined)
})
