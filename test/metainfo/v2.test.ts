import { test } from 'node:test'
import assert from 'node:assert/strict'
import bencode from 'bencode'
import RandomAccessMemory from 'random-access-memory'
import { buildMetainfo, type TreeSource } from '../../lib/client/build-torrent.js'
import { resolveTarget } from '../../lib/client/resolve.js'
import { TrackerlessError } from '../../lib/errors.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { BLOCK_SIZE, leafHashes, pieceLayerFromLeaves, rootFromLeaves } from '../../lib/metainfo/merkle.js'
import { parseInfo, parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { sha256 } from '../../lib/metainfo/v2-parse.js'
import { throwsCode } from '../helpers/errors.js'

function bytes (length: number, seed: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = (i * 131 + seed * 7 + (i >> 10)) & 0xff
  return out
}

/** A folder whose tree order differs from whole-path order ("a/x" before "a-b"), with an empty file. */
const CONTENT = new Map<string, Buffer>([
  ['a-b', bytes(70_000, 1)],
  ['a/x', bytes(5 * BLOCK_SIZE + 3, 2)],
  ['a/y', bytes(300_001, 3)],
  ['empty', Buffer.alloc(0)],
  ['z', bytes(10, 4)]
])

async function build (version: 1 | 2 | 'hybrid', content = CONTENT, name = 'site'): Promise<Metainfo> {
  const tree: TreeSource = { name, multiFile: true, files: [...content].map(([path, data]) => ({ path, length: data.length })) }
  return await buildMetainfo(tree, (p) => new RandomAccessMemory(content.get(p.slice(name.length + 1)) ?? Buffer.alloc(0)), { version })
}

test('hybrid and v2 torrents we create carry the merkle roots of their files, in BEP52 tree order', async () => {
  for (const version of [2, 'hybrid'] as const) {
    const meta = await build(version)
    assert.equal(meta.version, version)
    const stored = meta.files.filter((f) => !f.pad)
    assert.deepEqual(stored.map((f) => f.path), ['a/x', 'a/y', 'a-b', 'empty', 'z'])
    for (const file of stored) {
      const data = CONTENT.get(file.path)!
      assert.deepEqual(file.root, rootFromLeaves(leafHashes(data)), file.path)
      if (file.length > 0) assert.equal(file.offset % meta.pieceLength, 0, `${file.path} starts a piece`)
    }
    assert.equal(meta.infoHashV2?.length, 32)
    assert.deepEqual(meta.infoHashV2, sha256(meta.info))
    if (version === 2) assert.deepEqual(meta.infoHash, meta.infoHashV2!.subarray(0, 20))
    // The .torrent carries the piece layers and reads back the same.
    const again = parseTorrent(encodeTorrentFile(meta))
    assert.deepEqual(again.infoHash, meta.infoHash)
    assert.deepEqual([...again.pieceLayers!.keys()].sort(), [...meta.pieceLayers!.keys()].sort())
    const y = stored.find((f) => f.path === 'a/y')!
    assert.deepEqual(again.pieceLayers!.get(y.root!.toString('hex')), pieceLayerFromLeaves(leafHashes(CONTENT.get('a/y')!), meta.pieceLength))
    // Info by BEP9 has no piece layers; a v2-only torrent is asked for by its truncated hash.
    const byInfo = parseInfo(meta.info, meta.infoHash)
    assert.equal(byInfo.pieceLayers, undefined)
    assert.deepEqual(byInfo.files, meta.files)
  }
})

test('a v1 torrent keeps its whole-path order and its infohash: no v2 part unless asked', async () => {
  const meta = await build(1)
  assert.equal(meta.version, 1)
  assert.deepEqual(meta.files.filter((f) => !f.pad).map((f) => f.path), ['a-b', 'a/x', 'a/y', 'empty', 'z'])
  assert.equal(meta.infoHashV2, undefined)
  assert.ok(meta.files.every((f) => f.root === undefined))
})

test('piece layers that do not hash to their file\'s root are refused', async () => {
  const file = encodeTorrentFile(await build('hybrid'))
  // "piece layers" sorts after "info": the file ends with the last layer's hashes, then "ee".
  assert.ok(file.indexOf('12:piece layers') > 0)
  const tampered = Buffer.from(file)
  tampered[tampered.length - 40]! ^= 1
  throwsCode(() => parseTorrent(tampered), 'EBADTORRENT', /piece layer does not hash to its file's root/)
})

test('a hybrid whose v1 and v2 halves disagree is refused', async () => {
  const meta = await build('hybrid')
  type V1Info = { files: Array<{ length: number, path: Uint8Array[], attr?: Uint8Array }>, pieces: Uint8Array }
  const info = bencode.decode(meta.info) as V1Info
  const longer = structuredClone(info)
  longer.files[0]!.length += 1
  throwsCode(() => parseInfo(Buffer.from(bencode.encode(longer))), 'EBADTORRENT', /bytes in v1 but/)
  const unpadded = structuredClone(info)
  unpadded.files = unpadded.files.filter((f) => f.attr === undefined || !Buffer.from(f.attr).toString().includes('p'))
  unpadded.pieces = Buffer.alloc(20 * Math.ceil(unpadded.files.reduce((n, f) => n + f.length, 0) / meta.pieceLength))
  throwsCode(() => parseInfo(Buffer.from(bencode.encode(unpadded))), 'EBADTORRENT', /piece boundary/)
  const renamed = structuredClone(info)
  renamed.files[renamed.files.length - 1]!.path = [Buffer.from('zz')]
  throwsCode(() => parseInfo(Buffer.from(bencode.encode(renamed))), 'EBADTORRENT', /in v1 but "z" in v2/)
})

test('hostile names in a file tree are refused as in v1', () => {
  const leaf = { '': { length: 5, 'pieces root': Buffer.alloc(32, 1) } }
  for (const [tree, why] of [
    [{ '..': { x: leaf } }, /a "\.\." segment/],
    [{ 'a\\b': leaf }, /slash/],
    [{ 'C:': leaf }, /drive letter/],
    [{ a: { '': { length: 5, 'pieces root': Buffer.alloc(32) }, b: leaf } }, /both a file and a folder/],
    [{ a: {} }, /is empty/],
    [{ a: { '': { length: 5, 'pieces root': Buffer.alloc(31) } } }, /31 bytes/]
  ] as const) {
    const info = bencode.encode({ name: 'x', 'piece length': 16384, 'meta version': 2, 'file tree': tree })
    throwsCode(() => parseInfo(info), 'EBADTORRENT', why)
  }
})

test('a v2-only torrent without its piece layers is refused for download with EUNSUPPORTED; with layers, btmh-only magnets and hybrids open', async () => {
  const v2 = await build(2)
  const opened = await resolveTarget(encodeTorrentFile(v2))
  assert.equal(opened.kind, 'torrent')
  const withoutLayers = encodeTorrentFile({ ...v2, pieceLayers: new Map() })
  await assert.rejects(resolveTarget(withoutLayers), (err: unknown) => err instanceof TrackerlessError && err.code === 'EUNSUPPORTED' && /v2-only torrent without its piece layers/.test(err.message))
  // A btmh-only magnet opens on its truncated v2 hash (the swarm's name), metadata checked against the full one.
  assert.deepEqual(await resolveTarget(`magnet:?xt=urn:btmh:1220${v2.infoHashV2!.toString('hex')}`), { kind: 'infohash', infoHash: v2.infoHash, infoHashV2: v2.infoHashV2, peers: [] })
  const hybrid = await build('hybrid')
  const target = await resolveTarget(`magnet:?xt=urn:btih:${hybrid.infoHash.toString('hex')}&xt=urn:btmh:1220${hybrid.infoHashV2!.toString('hex')}`)
  assert.equal(target.kind, 'infohash')
  // Metadata for a truncated v2 hash is accepted; metadata for another hash is not.
  assert.equal(parseInfo(v2.info, v2.infoHash).version, 2)
  throwsCode(() => parseInfo(v2.info, asInfoHash(Buffer.alloc(20))), 'EBADTORRENT', /not the expected/)
})

test('a single-file v2 torrent names its one file as the torrent', async () => {
  const data = bytes(3 * BLOCK_SIZE, 9)
  const tree: TreeSource = { name: 'one.bin', multiFile: false, files: [{ path: 'one.bin', length: data.length }] }
  const meta = await buildMetainfo(tree, () => new RandomAccessMemory(data), { version: 'hybrid' })
  assert.equal(meta.multiFile, false)
  assert.deepEqual(meta.files.map((f) => f.path), ['one.bin'])
  assert.deepEqual(meta.files[0]!.root, rootFromLeaves(leafHashes(data)))
  const v2 = await buildMetainfo(tree, () => new RandomAccessMemory(data), { version: 2 })
  assert.equal(v2.multiFile, false)
  assert.deepEqual(v2.files[0]!.root, meta.files[0]!.root)
})
