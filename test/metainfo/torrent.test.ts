import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import bencode from 'bencode'
import type { EncodableValue } from 'bencode'
import { asInfoHash } from '../../lib/util/ids.js'
import { parseInfo, parseTorrent, MAX_FILES } from '../../lib/metainfo/torrent.js'
import { throwsCode } from '../helpers/errors.js'

type Dict = { [key: string]: EncodableValue }

function rejects (fn: () => unknown, message: RegExp): void {
  throwsCode(fn, 'EBADTORRENT', message)
}

function torrent (info: EncodableValue): Buffer {
  return Buffer.from(bencode.encode({ announce: 'http://tracker.invalid/announce', 'announce-list': [['udp://x.invalid:1']], info }))
}

function single (overrides: Dict = {}): Dict {
  return { name: 'file.txt', length: 100, 'piece length': 64, pieces: Buffer.alloc(40, 1), ...overrides }
}

function multi (files: Dict[], overrides: Dict = {}): Dict {
  if ('pieces' in overrides) return { name: 'archive', files, 'piece length': 16, ...overrides }
  const total = files.reduce((sum, f) => sum + (f['length'] as number), 0)
  return { name: 'archive', files, 'piece length': 16, pieces: Buffer.alloc(20 * Math.ceil(total / 16)), ...overrides }
}

const sha1 = (bytes: Uint8Array): string => createHash('sha1').update(bytes).digest('hex')

test('known answer: the infohash is SHA-1 of the raw info bytes, even when they are not canonical', () => {
  // Keys deliberately out of order: re-encoding the decoded dict would give a different hash.
  const info = Buffer.concat([
    Buffer.from('d4:name5:hello6:lengthi5e12:piece lengthi16384e6:pieces20:'),
    Buffer.from(Array.from({ length: 20 }, (_, i) => i)),
    Buffer.from('e')
  ])
  const file = Buffer.concat([Buffer.from('d8:announce3:url4:info'), info, Buffer.from('7:comment2:hie')])
  const meta = parseTorrent(file)
  assert.equal(meta.infoHash.toString('hex'), 'bed5277b5b0b5951c7149a08e760fcd274947dac')
  assert.equal(meta.infoHash.toString('hex'), sha1(info))
  assert.notEqual(sha1(bencode.encode(bencode.decode(info))), sha1(info))
  assert.deepEqual(meta.info, info)
  assert.equal(parseInfo(info).infoHash.toString('hex'), sha1(info))
})

test('single-file torrent: the file path is the name', () => {
  const meta = parseTorrent(torrent(single({ private: 1, attr: 'x' })))
  assert.equal(meta.name, 'file.txt')
  assert.equal(meta.multiFile, false)
  assert.equal(meta.private, true)
  assert.equal(meta.pieceLength, 64)
  assert.equal(meta.pieceCount, 2)
  assert.equal(meta.length, 100)
  assert.deepEqual(meta.pieceHashes, Buffer.alloc(40, 1))
  assert.deepEqual(meta.files, [{ path: 'file.txt', length: 100, offset: 0, pad: false, attr: 'x' }])
})

test('multi-file torrent: offsets, attrs and pad files, paths without the name', () => {
  const meta = parseTorrent(torrent(multi([
    { length: 10, path: ['a', 'b.txt'], attr: 'x' },
    { length: 6, path: ['.pad', '6'] },
    { length: 3, path: ['c'], attr: 'ph' },
    { length: 0, path: ['empty'] },
    { length: 5, path: ['_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____'] },
    { length: 20, path: ['d', 'e', 'f'] }
  ])))
  assert.equal(meta.multiFile, true)
  assert.equal(meta.private, false)
  assert.equal(meta.length, 44)
  assert.equal(meta.pieceCount, 3)
  assert.deepEqual(meta.files.map((f) => [f.path, f.offset, f.pad, f.attr]), [
    ['a/b.txt', 0, false, 'x'],
    ['.pad/6', 10, true, ''],
    ['c', 16, true, 'ph'],
    ['empty', 19, false, ''],
    ['_____padding_file_0_if you see this file, please update to BitComet 0.85 or above____', 19, true, ''],
    ['d/e/f', 24, false, '']
  ])
})

test('several pad files may share a path', () => {
  const meta = parseTorrent(torrent(multi([
    { length: 1, path: ['a'] }, { length: 15, path: ['.pad', '15'] },
    { length: 1, path: ['b'] }, { length: 15, path: ['.pad', '15'] }, { length: 1, path: ['c'] }
  ])))
  assert.equal(meta.files.length, 5)
})

test('utf-8 twins are preferred; legacy bytes still give a name', () => {
  const meta = parseTorrent(torrent(multi([{ length: 4, path: [Buffer.from([0xe9])], 'path.utf-8': ['é'] }], {
    name: Buffer.from([0x63, 0x61, 0x66, 0xe9]),
    'name.utf-8': 'café'
  })))
  assert.equal(meta.name, 'café')
  assert.equal(meta.files[0]!.path, 'é')
  const legacy = parseTorrent(torrent(single({ name: Buffer.from([0x61, 0xff]) })))
  assert.equal(legacy.name, 'a\uFFFD')
  const brokenTwin = parseTorrent(torrent(single({ name: 'plain', 'name.utf-8': Buffer.from([0xff]) })))
  assert.equal(brokenTwin.name, 'plain')
})

test('an empty torrent has no pieces and an empty "pieces" string', () => {
  const meta = parseTorrent(torrent(single({ length: 0, pieces: Buffer.alloc(0) })))
  assert.equal(meta.length, 0)
  assert.equal(meta.pieceCount, 0)
  rejects(() => parseTorrent(torrent(single({ length: 0, pieces: Buffer.alloc(20) }))), /0 pieces need 0/)
})

test('a hybrid v1+v2 torrent is read with its v2 root; a broken v2 part is refused clearly', () => {
  const root = Buffer.alloc(32, 7)
  const tree = { 'file.txt': { '': { length: 100, 'pieces root': root } } }
  const hybrid = parseTorrent(torrent(single({ 'piece length': 16384, pieces: Buffer.alloc(20, 1), 'meta version': 2, 'file tree': tree })))
  assert.equal(hybrid.version, 'hybrid')
  assert.equal(hybrid.length, 100)
  assert.deepEqual(hybrid.files[0]!.root, root)
  rejects(() => parseTorrent(torrent(single({ 'meta version': 2, 'file tree': tree }))), /power of two of at least 16 KiB/)
  rejects(() => parseTorrent(torrent(single({ 'piece length': 16384, pieces: Buffer.alloc(20, 1), 'meta version': 2, 'file tree': { 'file.txt': { '': { length: 100 } } } }))), /no "pieces root"/)
  rejects(() => parseTorrent(torrent({ name: 'x', 'piece length': 16384, 'meta version': 2, 'file tree': {} })), /file tree is empty/)
  rejects(() => parseTorrent(torrent({ name: 'x', 'piece length': 16384, 'meta version': 3, 'file tree': {} })), /meta version 3/)
  rejects(() => parseTorrent(torrent(single({ pieces: undefined }))), /no "pieces"/)
})

test('parseInfo checks the expected infohash', () => {
  const info = Buffer.from(bencode.encode(single()))
  const good = asInfoHash(createHash('sha1').update(info).digest())
  assert.equal(parseInfo(info, good).name, 'file.txt')
  rejects(() => parseInfo(info, asInfoHash(Buffer.alloc(20))), /not the expected 0000/)
  rejects(() => parseInfo(Buffer.from('li1ee')), /info must be a dictionary/)
})

test('rejects invalid piece lengths and piece hash strings', () => {
  rejects(() => parseTorrent(torrent(single({ 'piece length': 0 }))), /piece length 0/)
  rejects(() => parseTorrent(torrent(single({ 'piece length': -64 }))), /piece length -64/)
  rejects(() => parseTorrent(torrent(single({ 'piece length': 128 * 1024 * 1024 + 1 }))), /not between 1 and/)
  rejects(() => parseTorrent(torrent(single({ 'piece length': '64' }))), /"piece length" must be an integer/)
  rejects(() => parseTorrent(torrent(single({ 'piece length': undefined }))), /"piece length" is missing/)
  rejects(() => parseTorrent(torrent(single({ pieces: Buffer.alloc(39) }))), /"pieces" is 39 bytes but 2 pieces need 40/)
  rejects(() => parseTorrent(torrent(single({ pieces: Buffer.alloc(60) }))), /60 bytes/)
  const big = parseTorrent(torrent(single({ 'piece length': 128 * 1024 * 1024, pieces: Buffer.alloc(20) })))
  assert.equal(big.pieceCount, 1)
})

test('rejects bad lengths and layouts', () => {
  rejects(() => parseTorrent(torrent(single({ length: -1 }))), /negative length/)
  rejects(() => parseTorrent(torrent(single({ length: 2 ** 60 }))), /must be an integer/)
  rejects(() => parseTorrent(torrent(single({ files: [{ length: 1, path: ['a'] }] }))), /exactly one of "length"/)
  rejects(() => parseTorrent(torrent(single({ length: undefined }))), /exactly one of "length"/)
  rejects(() => parseTorrent(torrent(multi([]))), /empty file list/)
  rejects(() => parseTorrent(torrent(multi([{ length: -3, path: ['a'] }]))), /files\[0\] has a negative length/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3 }]))), /files\[0\] field "path" is missing/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: [] }]))), /file path is empty/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: [1] }]))), /byte string/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: 'a' }]))), /must be a list/)
  rejects(() => parseTorrent(torrent(multi([{ length: 2 ** 52, path: ['a'] }, { length: 2 ** 52, path: ['b'] }], { 'piece length': 2 ** 20, pieces: Buffer.alloc(0) }))), /too large/)
})

test('rejects unsafe paths and names', () => {
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: ['..', 'etc', 'passwd'] }]))), /"\.\.\/etc\/passwd" has a "\.\." segment/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: ['/abs'] }]))), /slash/)
  rejects(() => parseTorrent(torrent(multi([{ length: 3, path: ['C:', 'x'] }]))), /drive letter/)
  rejects(() => parseTorrent(torrent(single({ name: '../x' }))), /torrent name/)
  rejects(() => parseTorrent(torrent(single({ name: '' }))), /torrent name/)
  rejects(() => parseTorrent(torrent(single({ name: undefined }))), /no "name"/)
})

test('rejects duplicate paths and a file that is another file\'s folder', () => {
  rejects(() => parseTorrent(torrent(multi([{ length: 1, path: ['a'] }, { length: 1, path: ['a'] }]))), /two files have the path "a"/)
  rejects(() => parseTorrent(torrent(multi([{ length: 1, path: ['a'] }, { length: 1, path: ['a', 'b'] }]))), /both a file and the folder/)
  rejects(() => parseTorrent(torrent(multi([{ length: 1, path: [Buffer.from([0xff])] }, { length: 1, path: [Buffer.from([0xfe])] }]))), /two files have the path/)
})

test('rejects more than 100,000 files', () => {
  const files = Array.from({ length: MAX_FILES + 1 }, (_, i) => ({ length: 0, path: [`f${i}`] }))
  rejects(() => parseTorrent(torrent(multi(files))), /100001 files, more than the 100000/)
})

test('rejects malformed and oversized files', () => {
  rejects(() => parseTorrent(Buffer.from('')), /ends in the middle/)
  rejects(() => parseTorrent(Buffer.from('li1ee')), /torrent file must be a dictionary/)
  rejects(() => parseTorrent(Buffer.from('d4:infoi1ee')), /"info" must be a dictionary/)
  rejects(() => parseTorrent(Buffer.from('d8:announce1:xe')), /"info" is missing/)
  rejects(() => parseTorrent(Buffer.concat([torrent(single()), Buffer.from('\n')])), /after the value/)
  const deep = Buffer.from(`d4:info${'l'.repeat(100)}${'e'.repeat(100)}e`)
  rejects(() => parseTorrent(deep), /deeper than 64/)
  rejects(() => parseTorrent(Buffer.alloc(64 * 1024 * 1024 + 1)), /over the limit/)
})
