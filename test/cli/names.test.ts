import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import bencode from 'bencode'
import fc from 'fast-check'
import { escapeJson, escapeText } from '../../lib/cli/escape.js'
import { OFFLINE, run } from './child.js'
import { tmpDir } from '../helpers/fixtures.js'

/** Bytes a terminal acts on rather than shows: C0 (but the line ends), DEL, C1 (U+0080-U+009F). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u

/** An empty torrent (no pieces, so nothing to fetch) whose names carry escape sequences. */
async function hostileTorrent (dir: string): Promise<string> {
  const file = path.join(dir, 'evil.torrent')
  const info = {
    name: 'evil\u001b[2J\u009b2J\u007f',
    'piece length': 16384,
    pieces: Buffer.alloc(0),
    files: [{ length: 0, path: ['a\u009b31mred'] }, { length: 0, path: ['b\u001b]0;title\u0007'] }]
  }
  await fs.writeFile(file, bencode.encode({ info }))
  return file
}

function clean (output: string, what: string): void {
  assert.ok(!RAW_CONTROL.test(output), `${what} printed a raw control character: ${JSON.stringify(output)}`)
}

test('ls prints names with control characters escaped, plain and -l', async (t) => {
  const dir = await tmpDir(t, 'tl-names-')
  const torrent = await hostileTorrent(dir)
  const plain = await run(['ls', torrent, ...OFFLINE])
  assert.equal(plain.code, 0, plain.stderr)
  clean(plain.stdout.toString(), 'ls')
  // ESC and BEL cannot be in a file name on Windows: they were mapped to "_"; C1 and DEL remain, escaped.
  assert.equal(plain.stdout.toString(), 'a\\x9b31mred\nb_]0;title_\n')
  const long = await run(['ls', torrent, '-l', ...OFFLINE])
  clean(long.stdout.toString(), 'ls -l')
  assert.equal(long.stdout.toString(), '           0  a\\x9b31mred\n           0  b_]0;title_\n')

  const json = await run(['ls', torrent, '--json', ...OFFLINE])
  clean(json.stdout.toString(), 'ls --json')
  assert.deepEqual(json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l).path as string), ['/a\u009b31mred', '/b_]0;title_'])

  const missing = await run(['ls', torrent, '/nope\u001b[2J\u009b', ...OFFLINE])
  assert.equal(missing.code, 1)
  clean(missing.stderr, 'an error naming a path')
  assert.match(missing.stderr, /^trackerless: ENOENT.*nope\\x1b\[2J\\x9b/m)
})

test('get prints the name it found and the path it saved escaped', async (t) => {
  const dir = await tmpDir(t, 'tl-names-')
  const torrent = await hostileTorrent(dir)
  const out = path.join(dir, 'out')
  const get = await run(['get', torrent, '-o', out, ...OFFLINE])
  assert.equal(get.code, 0, get.stderr)
  clean(get.stdout.toString(), 'get (results)')
  clean(get.stderr, 'get (messages)')
  assert.match(get.stderr, /found "evil_\[2J\\x9b2J\\x7f"/)
  assert.equal(get.stdout.toString(), `${path.join(out, 'evil_[2J')}\\x9b2J\\x7f\n`)
  // .trackerless holds the storage's ownership record of the download (lib/storage/ownership.ts).
  assert.deepEqual((await fs.readdir(out)).filter((name) => name !== '.trackerless'), ['evil_[2J\u009b2J\u007f'])
})

test('escaped text has no character a terminal acts on; escaped JSON decodes to the same value', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => {
    const text = escapeText(s)
    assert.ok(!RAW_CONTROL.test(text) && !text.includes('\n') && !/[\u202a-\u202e\u2066-\u2069]/.test(text), JSON.stringify(text))
    const json = escapeJson(JSON.stringify({ s }))
    assert.ok(!RAW_CONTROL.test(json))
    assert.equal((JSON.parse(json) as { s: string }).s, s)
  }), { numRuns: 500 })
  assert.equal(escapeText('a\u001b[2Jb\n\u009b\u007f\u202e'), 'a\\x1b[2Jb\\n\\x9b\\x7f\\u202e')
})
