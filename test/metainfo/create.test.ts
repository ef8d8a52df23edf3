import { test } from 'node:test'
import assert from 'node:assert/strict'
import { choosePieceLength, createMetainfo, encodeTorrentFile, layoutFiles, type FileInput } from '../../lib/metainfo/create.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import type { FileEntry } from '../../lib/metainfo/types.js'
import { throwsCode } from '../helpers/errors.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

function rejects (fn: () => unknown, message: RegExp): void {
  throwsCode(fn, 'EBADTORRENT', message)
}

function hashesFor (files: readonly FileEntry[], pieceLength: number): Buffer {
  const last = files[files.length - 1]!
  const pieces = Math.ceil((last.offset + last.length) / pieceLength)
  return Buffer.alloc(pieces * 20, 7)
}

function build (inputs: FileInput[], pieceLength = 16 * KiB, padToPieces = false) {
  const files = layoutFiles(inputs, pieceLength, { padToPieces })
  return createMetainfo({ name: 'site', files, pieceLength, pieceHashes: hashesFor(files, pieceLength), multiFile: true })
}

test('choosePieceLength: powers of two from 16 KiB to 16 MiB, about 1000-2000 pieces', () => {
  assert.equal(choosePieceLength(GiB), MiB)
  assert.equal(choosePieceLength(0), 16 * KiB)
  assert.equal(choosePieceLength(1), 16 * KiB)
  assert.equal(choosePieceLength(100 * GiB), 16 * MiB)
  for (let total = 32 * MiB; total <= 32 * GiB; total = Math.floor(total * 1.7)) {
    const pieceLength = choosePieceLength(total)
    assert.equal(pieceLength & (pieceLength - 1), 0)
    const pieces = Math.ceil(total / pieceLength)
    assert.ok(pieces > 1000 && pieces <= 2000, `${total} bytes -> ${pieces} pieces`)
  }
  rejects(() => choosePieceLength(-1), /non-negative/)
  rejects(() => choosePieceLength(0.5), /non-negative/)
})

test('layoutFiles sorts by UTF-8 bytes, not UTF-16 code units', () => {
  const files = layoutFiles([
    { path: 'z', length: 1 }, { path: '😀', length: 1 }, { path: '\uFF61', length: 1 },
    { path: 'a/b', length: 1 }, { path: 'B', length: 1 }, { path: 'a b', length: 1 }, { path: 'é', length: 1 }
  ], 16)
  assert.deepEqual(files.map((f) => f.path), ['B', 'a b', 'a/b', 'z', 'é', '\uFF61', '😀'])
  assert.deepEqual(files.map((f) => f.offset), [0, 1, 2, 3, 4, 5, 6])
})

test('layoutFiles pads so each non-empty file after the first starts a piece, with no trailing pad', () => {
  const files = layoutFiles([
    { path: 'a', length: 5 }, { path: 'b', length: 16 }, { path: 'c', length: 0 }, { path: 'd', length: 3, attr: 'x' }, { path: 'e', length: 7 }
  ], 16, { padToPieces: true })
  assert.deepEqual(files, [
    { path: 'a', length: 5, offset: 0, pad: false, attr: '' },
    { path: '.pad/11', length: 11, offset: 5, pad: true, attr: 'p' },
    { path: 'b', length: 16, offset: 16, pad: false, attr: '' },
    { path: 'c', length: 0, offset: 32, pad: false, attr: '' },
    { path: 'd', length: 3, offset: 32, pad: false, attr: 'x' },
    { path: '.pad/13', length: 13, offset: 35, pad: true, attr: 'p' },
    { path: 'e', length: 7, offset: 48, pad: false, attr: '' }
  ])
  assert.equal(layoutFiles([{ path: 'a', length: 5 }], 16, { padToPieces: true }).length, 1)
})

test('layoutFiles rejects reserved, unsafe and conflicting paths', () => {
  rejects(() => layoutFiles([{ path: '.pad/3', length: 3 }], 16), /reserved for pad files/)
  rejects(() => layoutFiles([{ path: 'a', length: 3, attr: 'p' }], 16), /may only contain x, h and l/)
  rejects(() => layoutFiles([{ path: '/etc/passwd', length: 3 }], 16), /absolute; rename/)
  rejects(() => layoutFiles([{ path: 'a/../b', length: 3 }], 16), /"\.\." segment/)
  rejects(() => layoutFiles([{ path: 'a', length: 1 }, { path: 'a/b', length: 1 }], 16), /both a file and the folder/)
  rejects(() => layoutFiles([{ path: 'a', length: -1 }], 16), /non-negative/)
  rejects(() => layoutFiles([{ path: 'a', length: 1 }], 0), /piece length/)
})

test('creation is deterministic: same input, same infohash, whatever the input order', () => {
  const inputs: FileInput[] = [{ path: 'index.html', length: 21 }, { path: 'img/logo.png', length: 40000 }, { path: 'empty', length: 0 }]
  const first = build(inputs, 16 * KiB, true)
  const again = build([...inputs].reverse(), 16 * KiB, true)
  assert.deepEqual(again.infoHash, first.infoHash)
  assert.deepEqual(encodeTorrentFile(again), encodeTorrentFile(first))
  assert.notDeepEqual(build(inputs, 16 * KiB, false).infoHash, first.infoHash)
  assert.equal(first.info.includes('creation date'), false)
})

test('createMetainfo output reads back through parseTorrent unchanged', () => {
  const meta = build([{ path: 'docs/a.pdf', length: 50000, attr: 'h' }, { path: 'run.sh', length: 10, attr: 'x' }], 16 * KiB, true)
  const parsed = parseTorrent(encodeTorrentFile(meta))
  assert.deepEqual(parsed, meta)
  assert.equal(meta.files[1]!.pad, true)
})

test('single-file and private torrents', () => {
  const files = layoutFiles([{ path: 'movie.mkv', length: 40000 }], 16 * KiB)
  const meta = createMetainfo({ name: 'movie.mkv', files, pieceLength: 16 * KiB, pieceHashes: hashesFor(files, 16 * KiB), multiFile: false, private: true })
  assert.equal(meta.multiFile, false)
  assert.equal(meta.private, true)
  assert.equal(meta.pieceCount, 3)
  assert.deepEqual(parseTorrent(encodeTorrentFile(meta)), meta)
  rejects(() => createMetainfo({ name: 'other', files, pieceLength: 16 * KiB, pieceHashes: hashesFor(files, 16 * KiB), multiFile: false }), /single-file/)
})

test('an archive of empty files has no pieces', () => {
  const files = layoutFiles([{ path: 'a', length: 0 }], 16 * KiB)
  const meta = createMetainfo({ name: 'empty', files, pieceLength: 16 * KiB, pieceHashes: Buffer.alloc(0), multiFile: true })
  assert.equal(meta.pieceCount, 0)
  assert.equal(meta.length, 0)
})

test('createMetainfo validates its input', () => {
  const files = layoutFiles([{ path: 'a', length: 100 }], 64)
  const base = { name: 'x', files, pieceLength: 64, pieceHashes: Buffer.alloc(40), multiFile: true }
  rejects(() => createMetainfo({ ...base, pieceHashes: Buffer.alloc(20) }), /2 pieces need 40 bytes of hashes, got 20/)
  rejects(() => createMetainfo({ ...base, files: [] }), /at least one file/)
  rejects(() => createMetainfo({ ...base, name: 'a/b' }), /torrent name/)
  rejects(() => createMetainfo({ ...base, pieceLength: 3.5 }), /piece length/)
  rejects(() => createMetainfo({ ...base, files: [{ ...files[0]!, offset: 4 }] }), /offset 4 but the files before it end at 0/)
  rejects(() => createMetainfo({ ...base, files: [{ ...files[0]!, path: '.pad/x' }] }), /reserved/)
  const twice = [files[0]!, { ...files[0]!, offset: 100 }]
  rejects(() => createMetainfo({ ...base, files: twice, pieceHashes: Buffer.alloc(80) }), /two files have the path "a"; rename/)
  rejects(() => createMetainfo({ ...base, name: 'a', multiFile: false, files: [{ ...files[0]!, attr: 'p' }] }), /may only contain x, h and l/)
})

test('encodeTorrentFile embeds the info bytes and sorts extra fields', () => {
  const meta = build([{ path: 'a', length: 1 }])
  const file = encodeTorrentFile(meta, { 'created by': 'trackerless 0.1', 'creation date': 1700000000, comment: 'hi' })
  const text = file.toString('latin1')
  assert.ok(text.startsWith('d7:comment2:hi10:created by15:trackerless 0.113:creation datei1700000000e4:infod'))
  assert.ok(file.includes(meta.info))
  assert.deepEqual(parseTorrent(file).infoHash, meta.infoHash)
  rejects(() => encodeTorrentFile(meta, { info: 'x' }), /"info" comes from the metainfo/)
  rejects(() => encodeTorrentFile(meta, { n: 1.5 }), /must be an integer/)
})
