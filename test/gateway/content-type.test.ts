import { test } from 'node:test'
import assert from 'node:assert/strict'
import { contentTypeOf } from '../../lib/gateway/content-type.js'

// The types a browser needs to play, show or hand on an archive's media, rather than download it as bytes.
test('video, subtitle, playlist and e-book files get their registered types', () => {
  const expected: Record<string, string> = {
    '/film.mp4': 'video/mp4',
    '/film.mkv': 'video/x-matroska',
    '/clip.webm': 'video/webm',
    '/hls/seg0.ts': 'video/mp2t',
    '/hls/index.m3u8': 'application/vnd.apple.mpegurl',
    '/subs/en.vtt': 'text/vtt; charset=utf-8',
    '/subs/en.srt': 'application/x-subrip',
    '/books/novel.epub': 'application/epub+zip',
    '/a/index.HTML': 'text/html; charset=utf-8',
    '/archive.tar.gz': 'application/gzip'
  }
  for (const [name, type] of Object.entries(expected)) assert.equal(contentTypeOf(name), type, name)
})

test('no extension, an unknown one, or a dot only in a folder name: bytes', () => {
  for (const name of ['/noext', '/html', '/file.nosuchtype', '/v1.2/README', '/.']) {
    assert.equal(contentTypeOf(name), 'application/octet-stream', name)
  }
})
