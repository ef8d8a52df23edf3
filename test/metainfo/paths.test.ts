import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkPathConflicts, splitPath, validateName, validatePath } from '../../lib/metainfo/paths.js'
import { throwsCode } from '../helpers/errors.js'

function rejects (fn: () => unknown, message: RegExp): void {
  throwsCode(fn, 'EBADTORRENT', message)
}

test('accepts ordinary relative paths and joins them with /', () => {
  assert.equal(validatePath(['docs', 'a.pdf']), 'docs/a.pdf')
  assert.equal(validatePath(['.hidden', 'x..y', '...', 'é😀']), '.hidden/x..y/.../é😀')
  assert.equal(validateName('My Archive'), 'My Archive')
})

test('rejects every unsafe path and names it', () => {
  rejects(() => validatePath([]), /is empty/)
  rejects(() => validatePath(['a', '', 'b']), /"a\/\/b" has an empty segment/)
  rejects(() => validatePath(['.']), /"\." segment/)
  rejects(() => validatePath(['a', '..', 'b']), /"a\/\.\.\/b" has a "\.\." segment/)
  rejects(() => validatePath(['/etc', 'passwd']), /slash/)
  rejects(() => validatePath(['a\\..\\b']), /slash/)
  rejects(() => validatePath(['a\0b']), /NUL/)
  rejects(() => validatePath(['C:', 'x']), /drive letter/)
  rejects(() => validatePath(['c:evil']), /drive letter/)
  rejects(() => validatePath(['x'.repeat(256)]), /over 255 bytes/)
  rejects(() => validatePath(['é'.repeat(128)]), /over 255 bytes/)
  rejects(() => validatePath(Array.from({ length: 20 }, () => 'y'.repeat(250))), /over 4096 bytes/)
  rejects(() => validatePath(['bad\uD800']), /not valid Unicode/)
  rejects(() => validateName('a/b'), /torrent name "a\/b"/)
  rejects(() => validateName('..'), /torrent name/)
})

test('a segment of exactly 255 bytes and a path of exactly 4096 bytes are allowed', () => {
  validatePath(['x'.repeat(255)])
  assert.equal(validatePath([...Array.from({ length: 16 }, () => 'z'.repeat(254)), 'w'.repeat(16)]).length, 4096)
})

test('splitPath rejects absolute and empty-segment paths', () => {
  assert.deepEqual(splitPath('a/b/c'), ['a', 'b', 'c'])
  rejects(() => splitPath('/a'), /absolute/)
  rejects(() => splitPath('a//b'), /empty segment/)
  rejects(() => splitPath('a/'), /empty segment/)
  rejects(() => splitPath(''), /empty segment/)
})

test('checkPathConflicts rejects duplicates and a file that is also a folder', () => {
  checkPathConflicts(['a/b', 'a/c', 'ab', 'a b/c'])
  rejects(() => checkPathConflicts(['a', 'b', 'a']), /two files have the path "a"/)
  rejects(() => checkPathConflicts(['a/b/c', 'a/b']), /"a\/b" is both a file and the folder of "a\/b\/c"/)
  rejects(() => checkPathConflicts(['x', 'x/y']), /"x" is both a file and the folder/)
})
