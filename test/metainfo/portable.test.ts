import { test } from 'node:test'
import assert from 'node:assert/strict'
import bencode, { type EncodableValue } from 'bencode'
import fc from 'fast-check'
import { foldName, isPortableSegment, portablePaths } from '../../lib/metainfo/portable.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { createMetainfo, layoutFiles } from '../../lib/metainfo/create.js'
import { throwsCode } from '../helpers/errors.js'

const RESERVED = /^(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]) *(\.|$)/i
const ILLEGAL = /[<>:"\\|?*\u0000-\u001f]/

/** Every path and every folder prefix of it, folded: what a case-insensitive, normalising disk sees. */
function places (paths: readonly string[]): { files: string[], folders: Set<string> } {
  const folders = new Set<string>()
  for (const p of paths) {
    const segments = p.split('/')
    for (let i = 1; i < segments.length; i++) folders.add(foldName(segments.slice(0, i).join('/')))
  }
  return { files: paths.map(foldName), folders }
}

function checkPortable (mapped: readonly string[]): void {
  const { files, folders } = places(mapped)
  assert.equal(new Set(files).size, files.length, `two mapped paths fold to one: ${JSON.stringify(mapped)}`)
  for (const f of files) assert.ok(!folders.has(f), `${f} is both a file and a folder`)
  for (const p of mapped) {
    for (const segment of p.split('/')) {
      assert.ok(!RESERVED.test(segment), `reserved: ${JSON.stringify(segment)}`)
      assert.ok(!/[. ]$/.test(segment), `ends in dot or space: ${JSON.stringify(segment)}`)
      assert.ok(!ILLEGAL.test(segment), `illegal character: ${JSON.stringify(segment)}`)
      assert.ok(segment !== '' && segment !== '.' && segment !== '..')
      assert.ok(Buffer.byteLength(segment) <= 255, `over 255 bytes: ${segment.length}`)
      assert.ok(isPortableSegment(segment))
    }
  }
}

/** Characters that make names collide or break somewhere: case pairs, NFC/NFD, reserved words, dots, spaces. */
const char = fc.constantFrom('a', 'A', 'b', 'B', '.', ' ', 'é', 'e\u0301', 'ß', '<', ':', '?', '*', '|', '"', '\u001b', '\n', 'x', '1', '_', '(', ')')
const segment = fc.oneof(
  fc.array(char, { minLength: 1, maxLength: 6 }).map((cs) => cs.join('')),
  fc.constantFrom('CON', 'con.txt', 'Nul', 'COM1', 'lpt9.tar.gz', 'aux ', 'PRN.', 'a', 'A', 'a (1)', 'A (1)')
).filter((s) => s !== '.' && s !== '..')
const rawPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'))

/** Drops exact duplicates and exact file/folder clashes: the torrent parser rejects those before mapping. */
function consistent (paths: string[]): string[] {
  const out: string[] = []
  const files = new Set<string>()
  const folders = new Set<string>()
  for (const p of paths) {
    const segs = p.split('/')
    const prefixes = segs.slice(1).map((_, i) => segs.slice(0, i + 1).join('/'))
    if (files.has(p) || folders.has(p) || prefixes.some((f) => files.has(f))) continue
    files.add(p)
    for (const f of prefixes) folders.add(f)
    out.push(p)
  }
  return out
}

test('mapped paths are unique after NFC and case folding, never reserved, never end in a dot or space, have no illegal character', () => {
  fc.assert(fc.property(fc.array(rawPath, { minLength: 1, maxLength: 30 }).map(consistent), (paths) => {
    const mapped = portablePaths(paths)
    assert.equal(mapped.length, paths.length)
    checkPortable(mapped)
    assert.deepEqual(portablePaths(paths), mapped, 'the same torrent must always map the same way')
  }), { numRuns: 500 })
})

test('ordinary names are left unchanged', () => {
  const ordinary = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}(\.[a-z0-9]{1,4})?$/).filter((s) => !RESERVED.test(s))
  fc.assert(fc.property(fc.uniqueArray(fc.array(ordinary, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'))).map(consistent), (paths) => {
    assert.deepEqual(portablePaths(paths), paths)
  }), { numRuns: 300 })
  assert.deepEqual(portablePaths(['Docs/Read Me.md', 'docs2/été.txt', '.hidden/x..y', 'consent.txt', 'COM10', 'a (1).txt']),
    ['Docs/Read Me.md', 'docs2/été.txt', '.hidden/x..y', 'consent.txt', 'COM10', 'a (1).txt'])
})

test('the rule: later entries get " (n)" before the extension; folders that fold alike are merged under the first spelling', () => {
  assert.deepEqual(portablePaths(['A.txt', 'a.txt', 'a (1).txt']), ['A.txt', 'a (1).txt', 'a (1) (1).txt'])
  assert.deepEqual(portablePaths(['caf\u00e9', 'cafe\u0301']), ['caf\u00e9', 'cafe\u0301 (1)'])
  assert.deepEqual(portablePaths(['CON', 'con.txt', 'lpt1.tar.gz', 'aux .x']), ['CON_', 'con_.txt', 'lpt1_.tar.gz', 'aux _.x'])
  assert.deepEqual(portablePaths(['end.', 'end ', 'a<b>:c', 'esc\u001b[2J']), ['end_', 'end_ (1)', 'a_b__c', 'esc_[2J'])
  assert.deepEqual(portablePaths(['Dir/x', 'dir/y', 'dir/X']), ['Dir/x', 'Dir/y', 'Dir/X (1)'])
  assert.deepEqual(portablePaths(['a', 'A/b']), ['a', 'A (1)/b'])
  assert.deepEqual(portablePaths(['A/b', 'a']), ['A/b', 'a (1)'])
  const long = 'x'.repeat(250) + '.txt'
  const [, second] = portablePaths([long, long.toUpperCase()])
  assert.ok(Buffer.byteLength(second!) <= 255 && second!.endsWith(' (1).TXT'))
  assert.equal(portablePaths(['CON.' + 'y'.repeat(251)])[0]!.length, 255)
})

test('many case variants of one name map in linear time, not quadratic', () => {
  const variants = Array.from({ length: 4096 }, (_, i) => Array.from('abcdefghijkl', (c, bit) => (i >> bit) & 1 ? c.toUpperCase() : c).join(''))
  const mapped = portablePaths(variants)
  checkPortable(mapped)
  assert.equal(mapped[4095], 'ABCDEFGHIJKL (4095)')
})

function multi (paths: string[][], name = 'archive'): Buffer {
  const files: EncodableValue[] = paths.map((path) => ({ length: 0, path }))
  return Buffer.from(bencode.encode({ info: { name, 'piece length': 16384, pieces: Buffer.alloc(0), files } }))
}

test('a torrent with A.txt/a.txt, an NFC/NFD pair and CON opens with portable, distinct names', () => {
  const meta = parseTorrent(multi([['A.txt'], ['a.txt'], ['caf\u00e9'], ['cafe\u0301'], ['CON'], ['sub.', 'x ']], 'nul.'))
  assert.equal(meta.name, 'nul__')
  assert.deepEqual(meta.files.map((f) => f.path), ['A.txt', 'a (1).txt', 'caf\u00e9', 'cafe\u0301 (1)', 'CON_', 'sub_/x_'])
  const single = parseTorrent(Buffer.from(bencode.encode({ info: { name: 'AUX.log', 'piece length': 16384, pieces: Buffer.alloc(0), length: 0 } })))
  assert.equal(single.name, 'AUX_.log')
  assert.equal(single.files[0]!.path, 'AUX_.log')
})

test('creating a torrent (seed) refuses names that are not portable, naming the file', () => {
  const create = (paths: string[], name = 'site'): unknown => {
    const files = layoutFiles(paths.map((path) => ({ path, length: 0 })), 16384)
    return createMetainfo({ name, files, pieceLength: 16384, pieceHashes: Buffer.alloc(0), multiFile: true })
  }
  create(['index.html', 'Docs/a.txt'])
  throwsCode(() => create(['a.txt', 'A.txt']), 'EBADTORRENT', /"A\.txt" and "a\.txt" would clash on Windows and macOS/)
  throwsCode(() => create(['docs/CON.txt']), 'EBADTORRENT', /the path "docs\/CON\.txt" is a device name on Windows; rename the file before seeding it/)
  throwsCode(() => create(['x.']), 'EBADTORRENT', /the path "x\." ends in a dot or a space/)
  throwsCode(() => create(['a?b']), 'EBADTORRENT', /the path "a\?b" has a character Windows does not allow/)
  throwsCode(() => layoutFiles([{ path: 'big.iso', length: 1 }, { path: 'Big.iso', length: 1 }], 16384), 'EBADTORRENT', /"Big\.iso" and "big\.iso" would clash/)
  throwsCode(() => create(['ok'], 'site.'), 'EBADTORRENT', /the name "site\." ends in a dot/)
})
