/**
 * Harmless deviations real clients make (aria2 repeats BITFIELD as it completes pieces; others
 * send HAVE-ALL after HAVE-NONE, HAVEs for pieces they announced, unknown ids, keep-alives) keep
 * the connection, with the peer's pieces counted exactly once; what would corrupt the counts or
 * cannot be mapped onto the torrent still drops it, for a stated reason.
 *
 * The line follows libtorrent's incoming message handlers (peer_connection.cpp): a later
 * BITFIELD/HAVE-ALL/HAVE-NONE replaces the set; a HAVE it already counted, a REJECT or CANCEL
 * that matches no request, SUGGEST/ALLOWED-FAST/PORT hints and unknown ids are ignored; a block
 * nobody asked that peer for is dropped as waste ("piece_unknown"); a REQUEST while choked gets a
 * REJECT with the fast extension; what cannot map onto the torrent (a HAVE past the last piece, a
 * bitfield of another length) disconnects. Where libtorrent disconnects for a fast-extension
 * message from a peer that did not announce the extension, we are more lenient and read it.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { Message } from '../../lib/wire/messages.js'
import { Bitfield } from '../../lib/util/bitfield.js'
import type { Torrent } from '../../index.js'
import type { Peer } from '../../lib/swarm/peer.js'
import fs from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { createMetainfo, encodeTorrentFile, layoutFiles } from '../../lib/metainfo/create.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import type { BlockRequest } from '../../lib/swarm/peer.js'
import type { PeerList } from '../../lib/swarm/peer-list.js'
import { until } from '../helpers/fixtures.js'
import { MiB, RawPeer, scene, type Scene } from './raw-peer.js'

/** The parts of a running swarm these tests look into (test-only access to private state). */
interface SwarmView { peers: Set<Peer>, picker: { availability: (index: number) => number } | null, banReason: PeerList['banReason'] }

function swarmOf (torrent: Torrent, s: Scene): SwarmView {
  const swarms = (torrent as unknown as { swarms: Map<string, { swarm: SwarmView }> }).swarms
  return swarms.get(s.meta.infoHash.toString('hex'))!.swarm
}

function bits (count: number, ...set: number[]): Buffer {
  const field = new Bitfield(count)
  for (const i of set) field.set(i)
  return Buffer.from(field.buffer)
}

type Step = Message | Buffer

/** A raw peer on the leecher's torrent that says `steps`; resolves with it and its Peer there. */
async function connected (t: TestContext, s: Scene, opts: { fast?: boolean } = {}): Promise<{ raw: RawPeer, peer: Peer, view: SwarmView, reason: () => Error | undefined | null }> {
  await s.leecher.lookup(encodeTorrentFile(s.meta), { download: 'all' })
  const raw = await RawPeer.dial(s.leecher.port, { infoHash: s.meta.infoHash, fast: opts.fast })
  t.after(() => raw.destroy())
  const view = swarmOf(s.leecher, s)
  const address = `127.0.0.1:${raw.socket.localPort!}`
  await until(() => [...view.peers].some((p) => p.address === address), 10_000, 'the leecher registered the raw peer')
  const peer = [...view.peers].find((p) => p.address === address)!
  let reason: Error | undefined | null = null
  peer.wire.once('close', (err?: Error) => { reason = err })
  return { raw, peer, view, reason: () => reason }
}

function say (raw: RawPeer, steps: Step[]): void {
  for (const step of steps) {
    if (Buffer.isBuffer(step)) raw.sendRaw(step)
    else raw.send(step)
  }
}

const keepAlive = Buffer.alloc(4)
/** A message id no BEP assigns, with a payload. */
const unknownId = Buffer.from([0, 0, 0, 4, 99, 1, 2, 3])

interface Deviation { name: string, steps: (n: number) => Step[], has: (n: number) => number[] }

const deviations: Deviation[] = [
  { name: 'a repeated BITFIELD replaces the set (aria2)', steps: (n) => [{ type: 'bitfield', bitfield: bits(n, 0) }, { type: 'bitfield', bitfield: bits(n, 1, 2) }], has: () => [1, 2] },
  { name: 'HAVE-NONE then growing BITFIELDs (aria2)', steps: (n) => [{ type: 'have-none' }, { type: 'bitfield', bitfield: bits(n, 0) }, { type: 'bitfield', bitfield: bits(n, 0, 3) }], has: () => [0, 3] },
  { name: 'BITFIELD after HAVE', steps: (n) => [{ type: 'have', index: 0 }, { type: 'bitfield', bitfield: bits(n, 1) }], has: () => [1] },
  { name: 'BITFIELD after HAVE-NONE', steps: (n) => [{ type: 'have-none' }, { type: 'bitfield', bitfield: bits(n, 2) }], has: () => [2] },
  { name: 'HAVE-ALL after HAVE-NONE', steps: () => [{ type: 'have-none' }, { type: 'have-all' }], has: (n) => [...Array(n).keys()] },
  { name: 'HAVE-ALL after a BITFIELD', steps: (n) => [{ type: 'bitfield', bitfield: bits(n, 0) }, { type: 'have-all' }], has: (n) => [...Array(n).keys()] },
  { name: 'HAVE-NONE after a BITFIELD', steps: (n) => [{ type: 'bitfield', bitfield: bits(n, 0, 1) }, { type: 'have-none' }, { type: 'have', index: 4 }], has: () => [4] },
  { name: 'a HAVE for a piece already held', steps: (n) => [{ type: 'bitfield', bitfield: bits(n, 1) }, { type: 'have', index: 1 }, { type: 'have', index: 1 }, { type: 'have', index: 2 }, { type: 'have', index: 2 }], has: () => [1, 2] },
  { name: 'unknown message ids', steps: (n) => [unknownId, { type: 'bitfield', bitfield: bits(n, 1) }, unknownId], has: () => [1] },
  { name: 'unknown and zero-length extension messages', steps: (n) => [{ type: 'extended', id: 200, payload: Buffer.from('junk') }, { type: 'extended', id: 201, payload: Buffer.alloc(0) }, { type: 'bitfield', bitfield: bits(n, 3) }], has: () => [3] },
  { name: 'a CANCEL for a block never requested', steps: (n) => [{ type: 'cancel', index: 0, begin: 0, length: 16384 }, { type: 'bitfield', bitfield: bits(n, 2) }, { type: 'cancel', index: n + 5, begin: 7, length: 1 }], has: () => [2] },
  { name: 'a PIECE nobody asked for', steps: (n) => [{ type: 'have-none' }, { type: 'piece', index: 0, begin: 0, block: Buffer.alloc(16384) }, { type: 'bitfield', bitfield: bits(n, 1) }, { type: 'piece', index: n + 1, begin: 3, block: Buffer.alloc(5) }], has: () => [1] },
  { name: 'a REJECT for a request never sent', steps: (n) => [{ type: 'reject', index: 0, begin: 0, length: 16384 }, { type: 'bitfield', bitfield: bits(n, 3) }, { type: 'reject', index: n + 2, begin: 0, length: 16384 }], has: () => [3] },
  { name: 'SUGGEST, ALLOWED-FAST and PORT hints, even out of range', steps: (n) => [{ type: 'suggest', index: n + 9 }, { type: 'allowed-fast', index: n + 9 }, { type: 'port', port: 0 }, { type: 'bitfield', bitfield: bits(n, 0) }, { type: 'suggest', index: 0 }, { type: 'allowed-fast', index: 1 }], has: () => [0] },
  { name: 'keep-alives at any time', steps: (n) => [keepAlive, { type: 'have-none' }, keepAlive, { type: 'bitfield', bitfield: bits(n, 0) }, keepAlive, keepAlive], has: () => [0] }
]

for (const d of deviations) {
  test(`tolerated: ${d.name}; the connection stays and each piece is counted once`, async (t) => {
    const s = await scene(t)
    const n = s.meta.pieceCount
    const { raw, view, reason } = await connected(t, s)
    say(raw, d.steps(n))
    const want = d.has(n)
    // Unchoking after the deviation: a request for one of the final set's pieces proves that the
    // leecher read every message before it and still talks to the peer.
    const request = raw.next((f) => f.type === 'request', 10_000)
    raw.send({ type: 'unchoke' })
    const first = await request
    assert.ok(first.type === 'request' && want.includes(first.index), `asked for piece ${first.type === 'request' ? first.index : -1}, which the peer no longer has`)
    const counts = [...Array(n).keys()].map((i) => view.picker!.availability(i))
    assert.deepEqual(counts, [...Array(n).keys()].map((i) => want.includes(i) ? 1 : 0))
    assert.equal(reason(), null, `the leecher closed the peer: ${String(reason())}`)
    assert.equal(raw.closed, false)
  })
}

test('tolerated: a REQUEST while choked is rejected with the fast extension, ignored without', async (t) => {
  const s = await scene(t)
  for (const fast of [true, false]) {
    const raw = await RawPeer.dial(s.seeder.port, { infoHash: s.meta.infoHash, fast })
    t.after(() => raw.destroy())
    const frames: string[] = []
    raw.onFrame((f) => frames.push(f.type))
    const block = Math.min(16384, s.meta.pieceLength)
    raw.send({ type: 'request', index: 0, begin: 0, length: block })
    // Then the ordinary way: interested, unchoke, request, piece; the connection survived.
    const unchoked = raw.next((f) => f.type === 'unchoke', 10_000)
    raw.send({ type: 'interested' })
    await unchoked
    const piece = raw.next((f) => f.type === 'piece', 10_000)
    raw.send({ type: 'request', index: 1, begin: 0, length: block })
    await piece
    assert.equal(frames.includes('reject'), fast, fast ? 'no REJECT for the choked request' : 'a REJECT to a peer without the fast extension')
    assert.equal(frames.filter((f) => f === 'piece').length, 1, 'the choked request was served')
  }
})

const drops: Array<{ name: string, steps: (n: number) => Step[], reason: RegExp }> = [
  { name: 'a later BITFIELD of the wrong length', steps: (n) => [{ type: 'bitfield', bitfield: bits(n, 0) }, { type: 'bitfield', bitfield: Buffer.alloc(((n + 7) >> 3) + 1) }], reason: /bitfield of \d+ bytes for \d+ pieces/ },
  { name: 'a HAVE out of range', steps: (n) => [{ type: 'have-none' }, { type: 'have', index: n }], reason: /HAVE for piece \d+ of \d+/ }
]

for (const d of drops) {
  test(`dropped: ${d.name}, with the reason`, async (t) => {
    const s = await scene(t)
    const n = s.meta.pieceCount
    const { raw, view, reason } = await connected(t, s)
    say(raw, d.steps(n))
    await raw.waitClosed(10_000)
    await until(() => reason() !== null, 5_000, 'the leecher closed the peer')
    assert.match(String(reason()?.message), d.reason)
    assert.deepEqual([...Array(n).keys()].map((i) => view.picker!.availability(i)), Array(n).fill(0), 'the dropped peer is still counted')
  })
}


/** A torrent of `data` in pieces of four blocks, so that a piece has several contributors. */
function multiBlockTorrent (data: Buffer): Metainfo {
  const pieceLength = 4 * 16384
  const hashes: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) hashes.push(createHash('sha1').update(data.subarray(at, at + pieceLength)).digest())
  return createMetainfo({ name: 'data.bin', files: layoutFiles([{ path: 'data.bin', length: data.length }], pieceLength), pieceLength, pieceHashes: Buffer.concat(hashes), multiFile: false })
}

test('ignored: blocks we did not ask that peer for; they cannot get the honest peer that was asked banned', async (t) => {
  const s = await scene(t, MiB)
  const data = await fs.readFile(s.file)
  const meta = multiBlockTorrent(data)
  const archive = await s.leecher.lookup(encodeTorrentFile(meta), { download: 'all' })
  const view = swarmOf(s.leecher, { ...s, meta })
  const dial = async (): Promise<{ raw: RawPeer, address: string }> => {
    const raw = await RawPeer.dial(s.leecher.port, { infoHash: meta.infoHash })
    t.after(() => raw.destroy())
    const address = `127.0.0.1:${raw.socket.localPort!}`
    await until(() => [...view.peers].some((p) => p.address === address), 10_000, 'the leecher registered the raw peer')
    return { raw, address }
  }
  const { raw: honest, address: honestAddress } = await dial()
  const asked: BlockRequest[] = []
  let serving = false
  const serve = (r: BlockRequest): void => {
    const at = r.index * meta.pieceLength + r.begin
    honest.send({ type: 'piece', index: r.index, begin: r.begin, block: data.subarray(at, at + r.length) })
  }
  honest.onFrame((f) => {
    if (f.type !== 'request') return
    if (serving) serve(f)
    else asked.push({ index: f.index, begin: f.begin, length: f.length })
  })
  honest.send({ type: 'have-all' })
  honest.send({ type: 'unchoke' })
  await until(() => new Set(asked.map((r) => r.index)).size >= 2, 10_000, 'requests for two pieces')
  // Another peer sends junk for one block of each of two pieces asked of the honest one. Were it
  // taken, both pieces would fail the hash with the honest peer among their contributors: two
  // strikes, and the honest peer banned.
  const { raw: intruder, address: intruderAddress } = await dial()
  const intruderPeer = [...view.peers].find((p) => p.address === intruderAddress)!
  let intruderDropped: Error | undefined | null = null
  intruderPeer.wire.once('close', (err?: Error) => { intruderDropped = err })
  const targets = [asked[0]!, asked.find((r) => r.index !== asked[0]!.index)!]
  for (const r of targets) intruder.send({ type: 'piece', index: r.index, begin: r.begin, block: Buffer.alloc(r.length, 0xee) })
  await until(() => intruderPeer.wire.downloadedBytes === targets.length * targets[0]!.length || intruderDropped !== null, 10_000, 'the leecher read the junk')
  serving = true
  for (const r of asked) serve(r)
  await until(() => archive.progress === 1 || view.banReason(honestAddress) !== undefined, 30_000, 'the download ended')
  assert.equal(view.banReason(honestAddress), undefined, 'the honest peer was banned')
  assert.ok((await archive.readFile('/data.bin') as Buffer).equals(data))
  assert.equal(intruderPeer.unasked, targets.length * targets[0]!.length, 'the junk was not counted as unasked')
  assert.equal(intruderDropped, null, `the intruder was dropped (${String(intruderDropped)}): unasked blocks are ignored, not a reason to disconnect`)
})
