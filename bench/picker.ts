/**
 * Micro-benchmark of PiecePicker on a 1 GiB torrent (1024 pieces of 1 MiB, 65536 of 16 KiB) with
 * one seed or 50 partial peers. Run: node .build-picker/bench/picker.js
 *
 * download: pick + markStarted + markHave for every piece, peers served round-robin.
 * pick only: repeated picks with no state change (what a peer asking again costs).
 * peerHas: HAVE messages until every peer has every piece; addPeer: bits counted per second.
 * Each figure is the best of five runs.
 * linear: a WebTorrent-style scan over all pieces per pick, for comparison (a capped number of picks).
 */
import { PiecePicker, type PeerPieces } from '../lib/swarm/picker.js'
import { seeded } from '../test/helpers/seeded-random.js'
import { Bitfield } from '../lib/util/bitfield.js'

function randomBitfield (n: number, density: number, random: () => number): Bitfield {
  const bits = new Bitfield(n)
  for (let i = 0; i < n; i++) if (random() < density) bits.set(i)
  return bits
}

function perSecond (count: number, start: bigint): number {
  return count / (Number(process.hrtime.bigint() - start) / 1e9)
}

function format (rate: number): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M/s`
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k/s`
  return `${rate.toFixed(0)} /s`
}

interface Swarm {
  picker: PiecePicker
  peers: PeerPieces[]
  bitfields: Bitfield[]
}

/** One seed (have-all), or `count` partial peers holding half the pieces each. */
function swarm (n: number, count: number, random: () => number): Swarm {
  const picker = new PiecePicker(n, { random })
  if (count === 1) {
    picker.addSeed()
    return { picker, peers: ['all'], bitfields: [] }
  }
  const bitfields = Array.from({ length: count }, () => randomBitfield(n, 0.5, random))
  for (const b of bitfields) picker.addPeer(b)
  return { picker, peers: bitfields, bitfields }
}

function download (n: number, count: number): number {
  const { picker, peers } = swarm(n, count, seeded(1))
  const start = process.hrtime.bigint()
  let picks = 0
  let idle = 0
  for (let k = 0; picker.wantedRemaining > 0 && idle < peers.length && picks < 10 * n; k++) {
    const piece = picker.pick(peers[k % peers.length]!)
    picks++
    if (piece === -1) {
      idle++
      continue
    }
    idle = 0
    picker.markStarted(piece)
    picker.markHave(piece)
  }
  if (picker.wantedRemaining !== 0) throw new Error('benchmark swarm could not finish the torrent')
  return perSecond(picks, start)
}

function pickOnly (n: number, count: number): number {
  const { picker, peers } = swarm(n, count, seeded(2))
  // Half the torrent done and some pieces in flight, as in the middle of a download.
  for (let i = 0; i < n / 2; i++) picker.markHave(i)
  for (let i = n / 2; i < n / 2 + 32; i++) picker.markStarted(i)
  const picks = 1_000_000
  let sink = 0
  const start = process.hrtime.bigint()
  for (let k = 0; k < picks; k++) sink += picker.pick(peers[k % peers.length]!)
  if (sink === 0.5) console.log(sink)
  return perSecond(picks, start)
}

function availabilityUpdates (n: number, count: number): { peerHas: number, addPeerBits: number } {
  const random = seeded(3)
  const picker = new PiecePicker(n, { random })
  const bitfields = Array.from({ length: count }, () => randomBitfield(n, 0.5, random))
  let bits = 0
  let start = process.hrtime.bigint()
  for (const b of bitfields) {
    bits += b.count
    picker.addPeer(b)
  }
  const addPeerBits = perSecond(bits, start)
  let updates = 0
  start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    for (const b of bitfields) if (picker.peerHas(b, i)) updates++
  }
  return { peerHas: perSecond(updates, start), addPeerBits }
}

/** WebTorrent's shape: every pick scans every piece for the lowest availability the peer has. */
function linearScan (n: number, count: number): number {
  const random = seeded(4)
  const availability = new Int32Array(n)
  const done = new Uint8Array(n)
  const bitfields = Array.from({ length: count }, () => randomBitfield(n, count === 1 ? 1 : 0.5, random))
  for (const b of bitfields) for (let i = 0; i < n; i++) if (b.get(i)) availability[i]!++
  const picks = Math.min(n, 500)
  const start = process.hrtime.bigint()
  for (let k = 0; k < picks; k++) {
    const peer = bitfields[k % count]!
    let best = -1
    for (let i = 0; i < n; i++) {
      if (done[i] === 0 && peer.get(i) && (best === -1 || availability[i]! < availability[best]!)) best = i
    }
    if (best !== -1) done[best] = 1
  }
  return perSecond(picks, start)
}

/** The best of five runs: the first ones pay for the JIT warming up. */
function best (run: () => number): number {
  let top = 0
  for (let i = 0; i < 5; i++) top = Math.max(top, run())
  return top
}

console.log('PiecePicker, 1 GiB torrent (node ' + process.version + ')')
console.log('pieces  peers  download(pick+start+have)  pick only   peerHas     addPeer bits  linear scan (WebTorrent-like)')
for (const n of [1024, 65536]) {
  for (const count of [1, 50]) {
    const d = best(() => download(n, count))
    const p = best(() => pickOnly(n, count))
    const u = count === 1 ? undefined : { peerHas: best(() => availabilityUpdates(n, count).peerHas), addPeerBits: best(() => availabilityUpdates(n, count).addPeerBits) }
    const l = best(() => linearScan(n, count))
    console.log([
      String(n).padStart(6),
      String(count).padStart(6),
      format(d).padStart(26),
      format(p).padStart(11),
      (u === undefined ? '-' : format(u.peerHas)).padStart(11),
      (u === undefined ? '-' : format(u.addPeerBits)).padStart(13),
      format(l).padStart(14)
    ].join(' '))
  }
}
