import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FileMap, type FileSegment } from '../../lib/storage/file-map.js'
import type { FileEntry, Layout } from '../../lib/metainfo/types.js'
import { TrackerlessError } from '../../lib/errors.js'

function layoutOf (pieceLength: number, files: Array<{ length: number, pad?: boolean }>): Layout {
  let offset = 0
  const entries: FileEntry[] = files.map((f, i) => {
    const e = { path: `f${i}`, length: f.length, offset, pad: f.pad === true, attr: f.pad === true ? 'p' : '' }
    offset += f.length
    return e
  })
  return { pieceLength, length: offset, files: entries }
}

/** The obvious answer: walk every byte. */
function bruteForce (layout: Layout, start: number, length: number): FileSegment[] {
  const out: FileSegment[] = []
  for (let pos = start; pos < start + length; pos++) {
    const file = layout.files.findIndex((f) => pos >= f.offset && pos < f.offset + f.length)
    const last = out[out.length - 1]
    if (last !== undefined && last.file === file) last.length++
    else out.push({ file, offset: pos - layout.files[file]!.offset, length: 1 })
  }
  return out
}

test('a range spanning many files, with empty and pad files between them', () => {
  const layout = layoutOf(10, [
    { length: 3 }, { length: 0 }, { length: 4 }, { length: 2, pad: true }, { length: 0 }, { length: 1 }, { length: 15 }
  ])
  const map = new FileMap(layout)
  assert.equal(map.pieceCount, 3)
  assert.deepEqual(map.pieceSegments(0), [
    { file: 0, offset: 0, length: 3 },
    { file: 2, offset: 0, length: 4 },
    { file: 3, offset: 0, length: 2 },
    { file: 5, offset: 0, length: 1 }
  ])
  assert.deepEqual(map.pieceSegments(0, 2, 6), [
    { file: 0, offset: 2, length: 1 },
    { file: 2, offset: 0, length: 4 },
    { file: 3, offset: 0, length: 1 }
  ])
  assert.deepEqual(map.pieceSegments(1), [{ file: 6, offset: 0, length: 10 }])
})

test('the last piece is shorter and maps to the end of the last file', () => {
  const map = new FileMap(layoutOf(8, [{ length: 5 }, { length: 14 }, { length: 0 }]))
  assert.equal(map.pieceCount, 3)
  assert.equal(map.pieceSize(0), 8)
  assert.equal(map.pieceSize(2), 3)
  assert.equal(map.pieceSize(3), 0)
  assert.deepEqual(map.pieceSegments(2), [{ file: 1, offset: 11, length: 3 }])
  assert.deepEqual(map.pieceSegments(2, 1, 2), [{ file: 1, offset: 12, length: 2 }])
})

test('a piece length that divides the total exactly has no short piece', () => {
  const map = new FileMap(layoutOf(4, [{ length: 8 }]))
  assert.equal(map.pieceCount, 2)
  assert.equal(map.pieceSize(1), 4)
})

test('empty files are never in a segment, even at the start or the end', () => {
  const map = new FileMap(layoutOf(4, [{ length: 0 }, { length: 0 }, { length: 4 }, { length: 0 }]))
  assert.deepEqual(map.pieceSegments(0), [{ file: 2, offset: 0, length: 4 }])
  assert.equal(map.fileAt(0), 2)
  assert.equal(map.filePieces(0), null)
  assert.deepEqual(map.filePieces(2), { first: 0, last: 0 })
})

test('a torrent of empty files has no pieces', () => {
  const map = new FileMap(layoutOf(16, [{ length: 0 }, { length: 0 }]))
  assert.equal(map.pieceCount, 0)
  assert.deepEqual(map.segments(0, 0), [])
  assert.throws(() => map.pieceSegments(0), { code: 'ERR_OUT_OF_RANGE' })
})

test('ranges outside a piece or the torrent are refused', () => {
  const map = new FileMap(layoutOf(8, [{ length: 20 }]))
  assert.throws(() => map.pieceSegments(2, 0, 5), RangeError)
  assert.throws(() => map.pieceSegments(-1), RangeError)
  assert.throws(() => map.pieceSegments(0, 7, 2), RangeError)
  assert.throws(() => map.pieceSegments(0.5), RangeError)
  assert.throws(() => map.segments(19, 2), RangeError)
  assert.deepEqual(map.pieceSegments(2, 4, 0), [])
})

test('filePieces gives the pieces a file touches', () => {
  const map = new FileMap(layoutOf(10, [{ length: 3 }, { length: 18 }, { length: 9 }]))
  assert.deepEqual(map.filePieces(0), { first: 0, last: 0 })
  assert.deepEqual(map.filePieces(1), { first: 0, last: 2 })
  assert.deepEqual(map.filePieces(2), { first: 2, last: 2 })
})

test('a layout whose files do not add up is rejected', () => {
  const bad = layoutOf(4, [{ length: 3 }, { length: 5 }])
  assert.throws(() => new FileMap({ ...bad, length: 9 }), (e: unknown) => e instanceof TrackerlessError && e.code === 'EBADTORRENT')
  const gap = layoutOf(4, [{ length: 3 }, { length: 5 }])
  gap.files[1]!.offset = 4
  assert.throws(() => new FileMap(gap), { code: 'EBADTORRENT' })
  assert.throws(() => new FileMap({ ...bad, pieceLength: 0 }), { code: 'EBADTORRENT' })
})

test('segments equal a byte-by-byte walk for any layout and range', () => {
  const file = fc.record({ length: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })), pad: fc.boolean() })
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 32 }),
    fc.array(file, { minLength: 1, maxLength: 12 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    (pieceLength, files, a, b) => {
      const layout = layoutOf(pieceLength, files)
      const map = new FileMap(layout)
      const start = Math.floor(a * layout.length)
      const length = Math.floor(b * (layout.length - start))
      assert.deepEqual(map.segments(start, length), bruteForce(layout, start, length))
      let total = 0
      for (let i = 0; i < map.pieceCount; i++) {
        const segs = map.pieceSegments(i)
        assert.equal(segs.reduce((n, s) => n + s.length, 0), map.pieceSize(i))
        total += map.pieceSize(i)
      }
      assert.equal(total, layout.length)
    }
  ), { numRuns: 500 })
})
