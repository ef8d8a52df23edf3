import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { HASH_SIZE, rootFromPieceLayer } from '../../lib/metainfo/merkle.js'
import type { FileEntry, Metainfo } from '../../lib/metainfo/types.js'
import { HashServer } from '../../lib/swarm/hash-server.js'
import { LAYER_BATCH, layerRequests, needsPieceLayers, provenHashes, unclesOf } from '../../lib/swarm/layer-requests.js'
import { BAD_PROOF, LAYER_REQUESTS_PER_PEER, PieceLayerFetch, UNASKED_HASHES, type PieceLayerFetchOptions } from '../../lib/swarm/piece-layers.js'
import type { HashMessage } from '../../lib/wire/hash-messages.js'
import type { InfoHash } from '../../lib/util/ids.js'
import { TrackerlessError } from '../../lib/errors.js'

const PIECE = 16 * 1024

/** A file of `pieces` pieces (the last one short) with a random piece layer: the hash server and
 *  the proofs need only the layer and the length, not the data. */
function layerFile (path: string, pieces: number, offset: number): { file: FileEntry, layer: Buffer } {
  const length = pieces * PIECE - 123
  const layer = randomBytes(pieces * HASH_SIZE)
  return { file: { path, length, offset, pad: false, attr: '', root: rootFromPieceLayer(layer, PIECE, length) }, layer }
}

/** A v2-only torrent as BEP9 gives it (no layers): a file of 1,300 pieces (three batches with
 *  uncles), one of 6, one of a single piece (no layer) and an empty one. */
function torrent (): { meta: Metainfo, layers: Map<string, Buffer> } {
  const big = layerFile('big', 1300, 0)
  const six = layerFile('six', 6, 1300 * PIECE)
  const one: FileEntry = { path: 'one', length: 1000, offset: 1306 * PIECE, pad: false, attr: '', root: randomBytes(32) }
  const empty: FileEntry = { path: 'empty', length: 0, offset: 1307 * PIECE, pad: false, attr: '' }
  const files = [big.file, six.file, one, empty]
  const layers = new Map([[big.file.root!.toString('hex'), big.layer], [six.file.root!.toString('hex'), six.layer]])
  const meta: Metainfo = {
    version: 2, infoHash: Buffer.alloc(20) as InfoHash, name: 'v2', pieceCount: 1307, pieceHashes: Buffer.alloc(0), pieceLength: PIECE,
    length: 1307 * PIECE, files, info: Buffer.alloc(0), multiFile: true, private: false, infoHashV2: Buffer.alloc(32)
  }
  return { meta, layers }
}

type Behaviour = 'honest' | 'reject' | 'silent' | 'flip' | 'swap-uncle' | 'no-uncles' | 'unasked'

interface FakePeer { name: string, v2: boolean, behaviour: Behaviour, asked: HashMessage[], inFlight: number, maxInFlight: number }

interface Run {
  fetch: PieceLayerFetch<FakePeer>
  result: Promise<Map<string, Buffer> | TrackerlessError>
  drops: Array<{ peer: string, reason: string, ban: boolean }>
  peers: Set<FakePeer>
}

function peer (name: string, behaviour: Behaviour = 'honest', v2 = true): FakePeer {
  return { name, v2, behaviour, asked: [], inFlight: 0, maxInFlight: 0 }
}

/** Runs a fetch against fake peers answering (a turn later) from a hash server of the true layers. */
function run (meta: Metainfo, layers: Map<string, Buffer>, list: FakePeer[], opts: Partial<PieceLayerFetchOptions<FakePeer>> = {}): Run {
  const server = new HashServer<FakePeer>({ pieceLength: meta.pieceLength, files: meta.files, pieceLayers: layers })
  const peers = new Set(list)
  const drops: Run['drops'] = []
  let finish!: (r: Map<string, Buffer> | TrackerlessError) => void
  // The fetch's timers do not hold the process (sockets do, in a swarm): this one does, here.
  const hold = setInterval(() => {}, 1000)
  const result = new Promise<Map<string, Buffer> | TrackerlessError>((resolve) => { finish = resolve }).finally(() => clearInterval(hold))
  const fetch: PieceLayerFetch<FakePeer> = new PieceLayerFetch<FakePeer>({
    meta,
    peers,
    speaksV2: (p) => p.v2,
    drop: (p, reason, ban) => { drops.push({ peer: p.name, reason, ban }); peers.delete(p); fetch.remove(p) },
    finish,
    send: (p, msg) => {
      assert.equal(msg.type, 'hash-request')
      p.asked.push(msg)
      p.maxInFlight = Math.max(p.maxInFlight, ++p.inFlight)
      setImmediate(() => {
        if (!peers.has(p) || msg.type !== 'hash-request') return
        const answer = p.behaviour === 'reject' ? { ...msg, type: 'hash-reject' as const } : server.answer(p, msg)
        if (p.behaviour === 'silent') return
        p.inFlight--
        if (answer.type === 'hashes') {
          const hashes = Buffer.from(answer.hashes)
          if (p.behaviour === 'flip') hashes[5]! ^= 1
          if (p.behaviour === 'swap-uncle' && unclesOf(msg) > 0) hashes.fill(7, hashes.length - HASH_SIZE)
          if (p.behaviour === 'flip' || p.behaviour === 'swap-uncle') {
            // A liar whose run has no uncles corrupts the run's padding or first hash instead.
            if (unclesOf(msg) === 0) hashes[hashes.length - 1]! ^= 1
          }
          const sent: HashMessage = p.behaviour === 'no-uncles'
            ? { ...answer, hashes: hashes.subarray(0, msg.length * HASH_SIZE) }
            : p.behaviour === 'unasked' ? { ...answer, index: answer.index + answer.length, hashes } : { ...answer, hashes }
          fetch.onMessage(p, sent)
        } else fetch.onMessage(p, answer)
      })
    },
    ...opts
  })
  fetch.start()
  return { fetch, result, drops, peers }
}

async function layersOf (r: Run): Promise<Map<string, Buffer>> {
  const result = await r.result
  if (result instanceof Error) throw result
  return result
}

describe('fetching piece layers by BEP52 hash requests', () => {
  it('plans aligned runs of at most 512 hashes, each proven up to the root (proof layers counted from the base layer, as libtorrent counts them)', () => {
    const { meta } = torrent()
    const big = meta.files[0]!
    const reqs = layerRequests(big.root!, big.length, PIECE)
    assert.deepEqual(reqs.map((r) => [r.index, r.length, r.proofLayers, r.baseLayer]), [[0, 512, 10, 0], [512, 512, 10, 0], [1024, 512, 10, 0]])
    const six = meta.files[1]!
    assert.deepEqual(layerRequests(six.root!, six.length, PIECE).map((r) => [r.index, r.length, r.proofLayers]), [[0, 8, 2]])
    assert.equal(needsPieceLayers(meta), true)
    assert.equal(needsPieceLayers({ ...meta, version: 'hybrid' }), false, 'a hybrid downloads by its SHA-1s')
  })

  it('fetches every layer byte-equal to the torrent\'s, spread over the v2 peers, a few requests in flight each', async () => {
    const { meta, layers } = torrent()
    const a = peer('a')
    const b = peer('b')
    const v1 = peer('v1', 'honest', false)
    const got = await layersOf(run(meta, layers, [a, v1, b]))
    assert.deepEqual([...got.keys()].sort(), [...layers.keys()].sort())
    for (const [root, layer] of layers) assert.ok(got.get(root)!.equals(layer), `layer of ${root.slice(0, 8)} differs`)
    assert.equal(v1.asked.length, 0, 'a peer without the v2 bit is not asked')
    assert.ok(a.asked.length > 0 && b.asked.length > 0, 'both v2 peers are asked')
    assert.equal(a.asked.length + b.asked.length, 4, 'three runs of the big file and one of the small')
    for (const p of [a, b]) {
      assert.ok(p.maxInFlight <= LAYER_REQUESTS_PER_PEER)
      for (const r of p.asked) assert.ok(r.type === 'hash-request' && r.length <= LAYER_BATCH)
    }
  })

  it('asks another peer what one rejected, or left unanswered past the request timeout', async () => {
    const { meta, layers } = torrent()
    const rejecting = peer('rejecting', 'reject')
    const silent = peer('silent', 'silent')
    const honest = peer('honest')
    const got = await layersOf(run(meta, layers, [rejecting, silent, honest], { requestTimeout: 20 }))
    for (const [root, layer] of layers) assert.ok(got.get(root)!.equals(layer))
    assert.ok(rejecting.asked.length > 0 && silent.asked.length > 0, 'the first two peers were asked first')
    assert.ok(silent.asked.length <= LAYER_REQUESTS_PER_PEER, 'a peer that does not answer gets no more than its share')
  })

  for (const behaviour of ['flip', 'swap-uncle', 'no-uncles'] as const) {
    it(`bans a peer whose hashes do not prove the root (${behaviour}), keeps none of them, and finishes with the others`, async () => {
      const { meta, layers } = torrent()
      const liar = peer('liar', behaviour)
      const honest = peer('honest')
      const r = run(meta, layers, [liar, honest])
      const got = await layersOf(r)
      assert.deepEqual(r.drops, [{ peer: 'liar', reason: BAD_PROOF, ban: true }])
      for (const [root, layer] of layers) assert.ok(got.get(root)!.equals(layer), 'the liar\'s hashes were not kept')
    })
  }

  it('disconnects (without a ban) a peer that sends hashes it was not asked for', async () => {
    const { meta, layers } = torrent()
    const r = run(meta, layers, [peer('pusher', 'unasked'), peer('honest')])
    await layersOf(r)
    assert.deepEqual(r.drops, [{ peer: 'pusher', reason: UNASKED_HASHES, ban: false }])
  })

  it('gives up with ETIMEDOUT when no peer answers, naming how many speak v2', async () => {
    const { meta, layers } = torrent()
    const result = await run(meta, layers, [peer('v1', 'honest', false)], { idleTimeout: 30 }).result
    assert.ok(result instanceof TrackerlessError)
    assert.equal(result.code, 'ETIMEDOUT')
    assert.match(result.message, /0 connected peers speak BitTorrent v2/)
  })

  it('refuses (EUNSUPPORTED) a torrent whose layers would take more than the bound, before asking anyone', async () => {
    const { meta, layers } = torrent()
    const huge: Metainfo = { ...meta, files: [{ ...meta.files[0]!, length: 2 ** 40 }] }
    const p = peer('a')
    const result = await run(huge, layers, [p]).result
    assert.ok(result instanceof TrackerlessError)
    assert.equal(result.code, 'EUNSUPPORTED')
    assert.equal(p.asked.length, 0)
  })

  it('a later peer is asked when it joins (pump)', async () => {
    const { meta, layers } = torrent()
    const r = run(meta, layers, [])
    const late = peer('late')
    r.peers.add(late)
    r.fetch.pump()
    await layersOf(r)
    assert.equal(late.asked.length, 4)
  })
})

describe('proving an answer (property)', () => {
  it('accepts the hash server\'s answers for any file and piece size, and no answer with one byte changed', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 3000 }), fc.integer({ min: 0, max: 3 }), fc.nat(), fc.nat(),
      (pieces, pieceShift, pick, byte) => {
        const pieceLength = PIECE << pieceShift
        const length = pieces * pieceLength - (pick % pieceLength)
        const layer = randomBytes(pieces * HASH_SIZE)
        const root = rootFromPieceLayer(layer, pieceLength, length)
        const files: FileEntry[] = [{ path: 'f', length, offset: 0, pad: false, attr: '', root }]
        const server = new HashServer<object>({ pieceLength, files, pieceLayers: new Map([[root.toString('hex'), layer]]) })
        const reqs = layerRequests(root, length, pieceLength)
        const req = reqs[pick % reqs.length]!
        const answer = server.answer({}, req)
        assert.equal(answer.type, 'hashes')
        if (answer.type !== 'hashes') return
        const proven = provenHashes(req, answer.hashes, length, pieceLength)
        assert.ok(proven !== null)
        assert.ok(proven.equals(layer.subarray(req.index * HASH_SIZE, Math.min(pieces, req.index + req.length) * HASH_SIZE)))
        const bad = Buffer.from(answer.hashes)
        bad[byte % bad.length]! ^= 1 << (byte % 8)
        assert.equal(provenHashes(req, bad, length, pieceLength), null)
      }), { numRuns: 100 })
  })
})
