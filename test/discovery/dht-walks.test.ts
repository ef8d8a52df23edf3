import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { Archive, Torrent } from '../../index.js'
import { DhtDiscovery } from '../../lib/discovery/dht.js'
import { PEERS_PER_BACKGROUND, WalkQueue, type WalkPriority } from '../../lib/discovery/walk-queue.js'
import { dhtNetwork } from '../helpers/dht-network.js'

test('walks in flight never exceed the bound; each priority is FIFO; background walks are not starved', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.record({ priority: fc.constantFrom<WalkPriority>('peers', 'background'), endNow: fc.boolean() }), { maxLength: 60 }),
    (limit, walks) => {
      const queue = new WalkQueue(limit)
      const started: number[] = []
      const pending: Array<() => void> = []
      let maxInFlight = 0
      walks.forEach(({ priority, endNow }, i) => queue.run(priority, (done) => {
        started.push(i)
        maxInFlight = Math.max(maxInFlight, queue.inFlight)
        if (endNow) done()
        else pending.push(done)
      }))
      // End the walks in flight one by one (each done() twice: the second must not free a slot).
      for (let n = 0; n < 1000 && pending.length > 0; n++) {
        const done = pending.shift()!
        done()
        done()
        assert.ok(queue.inFlight <= limit)
      }
      assert.ok(maxInFlight <= limit, `${maxInFlight} walks in flight, bound ${limit}`)
      assert.equal(started.length, walks.length, 'every walk started once')
      assert.equal(queue.inFlight, 0)
      for (const priority of ['peers', 'background'] as const) {
        const order = started.filter((i) => walks[i]!.priority === priority)
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `${priority} walks start in the order they came`)
      }
    }))
})

test('walks for torrents that want peers start first, with one background walk after every few of them', () => {
  const queue = new WalkQueue(1)
  const started: string[] = []
  const pending: Array<() => void> = []
  const walk = (name: string) => (done: () => void): void => { started.push(name); pending.push(done) }
  queue.run('background', walk('re-announce 0'))
  for (let i = 1; i <= 3; i++) queue.run('background', walk(`re-announce ${i}`))
  for (let i = 0; i < 2 * PEERS_PER_BACKGROUND; i++) queue.run('peers', walk(`lookup ${i}`))
  while (pending.length > 0) pending.shift()!()
  const expected = ['re-announce 0']
  for (let i = 0; i < 2 * PEERS_PER_BACKGROUND; i++) {
    expected.push(`lookup ${i}`)
    if (i % PEERS_PER_BACKGROUND === PEERS_PER_BACKGROUND - 1) expected.push(`re-announce ${expected.filter((s) => s.startsWith('re-')).length}`)
  }
  expected.push('re-announce 3')
  assert.deepEqual(started, expected)
  queue.close()
  queue.run('peers', walk('after close'))
  assert.equal(started.includes('after close'), false, 'a closed queue starts nothing')
})

test('a DHT node that joins 40 torrents at once walks for 4 at a time, as told, and announces every one', async (t) => {
  const net = await dhtNetwork(6)
  t.after(() => net.close())
  const discovery = new DhtDiscovery({ bootstrap: [net.bootstrap], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {}, maxWalks: 4 })
  t.after(() => discovery.close())
  await discovery.start()
  const node = discovery.node as unknown as { announce: (...args: unknown[]) => unknown, _closest: (...args: unknown[]) => unknown }
  let inFlight = 0
  let maxInFlight = 0
  let walks = 0
  const announced: string[] = []
  // Every walk of the library passes through _closest (an announce's too, before announce_peer).
  const closest = node._closest.bind(node)
  node._closest = (...args: unknown[]) => {
    const cb = args.pop() as (...a: unknown[]) => void
    inFlight++
    walks++
    maxInFlight = Math.max(maxInFlight, inFlight)
    return closest(...args, (...a: unknown[]) => { inFlight--; cb(...a) })
  }
  const announce = node.announce.bind(node)
  node.announce = (infoHash: unknown, ...rest: unknown[]) => {
    announced.push((infoHash as Buffer).toString('hex'))
    return announce(infoHash, ...rest)
  }
  const hashes = Array.from({ length: 40 }, () => randomBytes(20).toString('hex'))
  await Promise.all(hashes.map((h) => discovery.join(h, () => false)))
  assert.equal(maxInFlight, 4, 'the bound is reached and never passed')
  assert.deepEqual([...new Set(announced)].sort(), [...hashes].sort(), 'every torrent announced')
  assert.equal(walks, hashes.length, 'torrents that want no peers only announce: one walk each')
})

test('a seed does not look up its peers after its announce (as libtorrent): leechers find it', async (t) => {
  const net = await dhtNetwork(8)
  t.after(() => net.close())
  const watcher = net.nodes[0]!
  const seen: Record<string, number> = {}
  // A walk asks every node it knows once: in a DHT of 8, one get_peers at this node is one walk.
  watcher.on('get_peers', (infoHash: Buffer) => { const h = infoHash.toString('hex'); seen[h] = (seen[h] ?? 0) + 1 })
  const client = new Torrent({ dht: [net.bootstrap], dht6: false, lsd: false, pex: false, host: '127.0.0.1', natTraversal: false })
  t.after(() => client.stop())
  await client.start()
  const draft = new Archive()
  await draft.writeFile('/a.txt', Buffer.from('seeded'))
  const seed = /btih:([0-9a-f]{40})/.exec(await client.seed(draft))![1]!
  const seedWalks = seen[seed] ?? 0
  assert.ok(seedWalks >= 1, 'the announce walked to the node')
  // A torrent nobody seeds, beside it: its lookups (1 s, then 2 s after its announce) show the
  // client's DHT ticking past the time the seed would have looked up (1 s after its announce).
  const other = randomBytes(20).toString('hex')
  const giveUp = new AbortController()
  const looking = client.lookup(other, { signal: giveUp.signal }).catch(() => null)
  for (let i = 0; i < 300 && (seen[other] ?? 0) < 3; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  assert.ok((seen[other] ?? 0) >= 3, 'the torrent that wants peers announced, then looked twice')
  assert.equal(seen[seed] ?? 0, seedWalks, 'no get_peers walk of the seed after its announce')
  giveUp.abort()
  await looking
})

test('a walk that never ends gives its slot back after the slot time: a hostile DHT cannot stall every lookup', async () => {
  const queue = new WalkQueue(1, 20)
  let second = false
  queue.run('peers', () => { /* a walk a hostile node keeps going, whose callback never comes */ })
  const started = new Promise<void>((resolve) => queue.run('peers', (done) => { second = true; done(); resolve() }))
  assert.equal(second, false, 'the only slot is taken')
  // The slot timer is unref'd (it must not keep a client alive): hold the test's loop open.
  const hold = setInterval(() => {}, 1000)
  await started.finally(() => clearInterval(hold))
  assert.equal(queue.inFlight, 0)
  queue.close()
})

test('an announce goes to the 8 closest nodes that answered the walk (BEP5\'s K), not to every node it met', async (t) => {
  const net = await dhtNetwork(14)
  t.after(() => net.close())
  const told = new Map<string, Set<number>>()
  net.nodes.forEach((node, i) => node.on('announce', (_peer: unknown, infoHash: Buffer) => {
    const h = infoHash.toString('hex')
    told.set(h, (told.get(h) ?? new Set()).add(i))
  }))
  const discovery = new DhtDiscovery({ bootstrap: [net.bootstrap], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => discovery.close())
  await discovery.start()
  const infoHash = randomBytes(20)
  await discovery.join(infoHash.toString('hex'), () => false)
  const nodes = told.get(infoHash.toString('hex')) ?? new Set()
  assert.equal(nodes.size, 8, `announce_peer reached ${nodes.size} of the 14 nodes`)
  // The 8 closest to the infohash by XOR distance, every one of which answered.
  const distance = (i: number): Buffer => Buffer.from(net.nodes[i]!.nodeId.map((b, j) => b ^ infoHash[j]!))
  const closest = net.nodes.map((_, i) => i).sort((a, b) => Buffer.compare(distance(a), distance(b))).slice(0, 8)
  assert.deepEqual([...nodes].sort((a, b) => a - b), closest.sort((a, b) => a - b))
})
