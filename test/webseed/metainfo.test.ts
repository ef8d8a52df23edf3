import { test } from 'node:test'
import assert from 'node:assert/strict'
import bencode from 'bencode'
import fc from 'fast-check'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { formatMagnet, parseMagnet } from '../../lib/metainfo/magnet.js'
import { MAX_URL_LENGTH, MAX_WEB_SEEDS, checkWebSeeds, readUrlList, webSeedUrl } from '../../lib/metainfo/url-list.js'
import { fileRanges, fileUrl } from '../../lib/webseed/urls.js'
import { torrentNames } from '../../lib/webseed/names.js'
import { asInfoHash } from '../../lib/util/ids.js'
import { torrentOf } from './mirror.js'

const FILES = new Map([['a b.txt', Buffer.alloc(100, 1)], ['dir/ü#%.bin', Buffer.alloc(50, 2)]])

test('url-list is written by create and read back, as a list; a single string is read too', () => {
  const { meta, bytes } = torrentOf('my archive', FILES, 64, ['http://127.0.0.1:1/x/', 'https://mirror.example/files'])
  assert.deepEqual(meta.webSeeds, ['http://127.0.0.1:1/x/', 'https://mirror.example/files'])
  const root = bencode.decode(bytes) as Record<string, unknown>
  assert.equal((root['url-list'] as Uint8Array[]).length, 2)
  assert.deepEqual(parseTorrent(bytes).webSeeds, meta.webSeeds)
  assert.deepEqual(parseTorrent(bytes).infoHash, meta.infoHash, 'url-list is outside the info: the infohash does not change')
  const single = bencode.encode({ ...root, 'url-list': 'http://h/one' })
  assert.deepEqual(parseTorrent(single).webSeeds, ['http://h/one'])
})

test('url-list entries we cannot use are left out, the torrent still reads', () => {
  const { bytes } = torrentOf('n', FILES, 64, [])
  const root = bencode.decode(bytes) as Record<string, unknown>
  const list = ['ftp://h/x', 'file:///etc/passwd', 'javascript:alert(1)', 'http://user:pw@h/x', 'http://ok/', 42, { a: 1 }, 'http://ok/', `http://h/${'a'.repeat(MAX_URL_LENGTH)}`]
  assert.deepEqual(parseTorrent(bencode.encode({ ...root, 'url-list': list })).webSeeds, ['http://ok/'])
  assert.equal(parseTorrent(bencode.encode({ ...root, 'url-list': 7 })).webSeeds, undefined)
  const many = Array.from({ length: 100 }, (_, i) => `http://h${i}/`)
  assert.equal(parseTorrent(bencode.encode({ ...root, 'url-list': many })).webSeeds!.length, MAX_WEB_SEEDS)
})

test('creating a torrent with a web seed that is not http(s) fails with EINVAL naming it', () => {
  assert.throws(() => torrentOf('n', FILES, 64, ['ftp://h/x']), { code: 'EINVAL', message: /ftp:\/\/h\/x/ })
  assert.throws(() => checkWebSeeds(['http://u:p@h/'], '--web-seed'), { code: 'EINVAL', message: /--web-seed/ })
})

test('magnet ws= is read and written; bad ones are ignored and the link stands', () => {
  const infoHash = asInfoHash(Buffer.alloc(20, 0xab))
  const text = formatMagnet({ infoHash, peers: [], webSeeds: ['http://h/a b/', 'https://h2/x?y=1&z=2'] })
  assert.match(text, /&ws=http%3A%2F%2Fh%2Fa%2520b%2F/)
  assert.deepEqual(parseMagnet(text).webSeeds, ['http://h/a%20b/', 'https://h2/x?y=1&z=2'])
  const link = parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&ws=ftp%3A%2F%2Fh&ws=%E0%A4%A&ws=http%3A%2F%2Fok%2F`)
  assert.deepEqual(link.webSeeds, ['http://ok/'])
  // A ws= text holding '&=%' leaves a parameter with no name and a broken escape: ignored, as any parameter we do not read.
  assert.deepEqual(parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&ws=&=%&x.unknown=%E0%A4%A`).webSeeds, undefined)
  assert.throws(() => formatMagnet({ infoHash, peers: [], webSeeds: ['gopher://h/'] }), { code: 'EINVAL' })
})

test('property: any url-list value or ws= text is either a kept http(s) URL or ignored, never a crash', () => {
  const { bytes } = torrentOf('n', FILES, 64, [])
  const root = bencode.decode(bytes) as Record<string, unknown>
  const leaf = fc.oneof(fc.string(), fc.webUrl(), fc.uint8Array({ maxLength: 64 }), fc.integer(), fc.constant('http://'))
  const value = fc.oneof(leaf, fc.array(fc.oneof(leaf, fc.array(leaf, { maxLength: 3 })), { maxLength: 40 }))
  fc.assert(fc.property(value, (v) => {
    const seeds = parseTorrent(bencode.encode({ ...root, 'url-list': v })).webSeeds ?? []
    assert.ok(seeds.length <= MAX_WEB_SEEDS)
    for (const url of seeds) assert.equal(webSeedUrl(url), url)
  }), { numRuns: 300 })
  fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.webUrl()), { maxLength: 20 }), (ws) => {
    const link = parseMagnet(`magnet:?xt=urn:btih:${'a'.repeat(40)}${ws.map((w) => `&ws=${w}`).join('')}`)
    for (const url of link.webSeeds ?? []) assert.ok(url.startsWith('http:') || url.startsWith('https:'))
    assert.deepEqual(parseMagnet(formatMagnet(link)).webSeeds, link.webSeeds)
  }), { numRuns: 300 })
  assert.deepEqual(readUrlList(undefined), [])
})

test('BEP19 file URLs: single file is the URL, or URL + name after a slash; multi-file adds name and path, encoded', () => {
  assert.equal(fileUrl('http://h/f.iso', false, 'f.iso', []), 'http://h/f.iso')
  assert.equal(fileUrl('http://h/d/', false, 'a b#.iso', []), 'http://h/d/a%20b%23.iso')
  assert.equal(fileUrl('http://h/d/', true, 'my archive', ['dir', 'ü#%.bin']), 'http://h/d/my%20archive/dir/%C3%BC%23%25.bin')
  assert.equal(fileUrl('http://h/d', true, 'n', ['x']), 'http://h/d/n/x')
  const { meta } = torrentOf('my archive', FILES, 64, [])
  assert.deepEqual(torrentNames(meta), { name: 'my archive', paths: [['a b.txt'], ['dir', 'ü#%.bin']] })
})

test('a piece maps to ranges of the files it covers', () => {
  const { meta } = torrentOf('n', FILES, 64, [])
  assert.deepEqual(fileRanges(meta.files, 64, 64), [{ file: 0, start: 64, length: 36, at: 0 }, { file: 1, start: 0, length: 28, at: 36 }])
  assert.deepEqual(fileRanges(meta.files, 128, 22), [{ file: 1, start: 28, length: 22, at: 0 }])
})
