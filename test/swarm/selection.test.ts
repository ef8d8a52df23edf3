import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PiecePicker } from '../../lib/swarm/picker.js'
import { FileSelection, filesOf } from '../../lib/swarm/selection.js'
import type { FileEntry, Metainfo } from '../../lib/metainfo/types.js'
import { Bitfield } from '../../lib/util/bitfield.js'
import { seeded } from '../helpers/seeded-random.js'
import { throwsCode } from '../helpers/errors.js'

const PIECE = 10

/** Files of these lengths (a pad where the name starts with 'pad'), laid end to end in pieces of 10 bytes. */
function metaOf (files: Array<[string, number]>): Metainfo {
  let offset = 0
  const entries: FileEntry[] = files.map(([path, length]) => {
    const entry = { path, length, offset, pad: path.startsWith('pad'), attr: '' }
    offset += length
    return entry
  })
  const pieceCount = Math.ceil(offset / PIECE)
  return { files: entries, length: offset, pieceLength: PIECE, pieceCount, name: 't', multiFile: true } as unknown as Metainfo
}

/** Every piece the picker hands out, in order, to a seed. */
function drain (picker: PiecePicker): number[] {
  const out: number[] = []
  for (let piece = picker.pick('all'); piece !== -1; piece = picker.pick('all')) {
    out.push(piece)
    picker.markStarted(piece)
  }
  return out
}

// a: pieces 0-1 (bytes 0-14), b: pieces 1-2 (15-24), c/d.txt: pieces 2-3 (25-39), empty: none
const META = metaOf([['a', 15], ['b', 10], ['c/d.txt', 15], ['c/empty', 0]])

test('the files named are the background download; a piece shared with an unselected file comes too', () => {
  const picker = new PiecePicker(META.pieceCount, { random: seeded(1) })
  const selection = new FileSelection(META, picker, 'lazy', ['/b'])
  assert.equal(selection.active, true)
  assert.deepEqual(drain(picker).sort(), [1, 2], 'b lies in pieces 1 and 2, which a and c/d.txt share')
  assert.equal(selection.selected(0), false)
  assert.equal(selection.priorityOf(1), 'normal')
  assert.equal(selection.missingBytes(new Bitfield(4)), 20)
})

test('lazy with nothing named wants nothing and has no goal; all wants everything', () => {
  const lazy = new FileSelection(META, new PiecePicker(4), 'lazy')
  assert.equal(lazy.active, false)
  assert.equal(lazy.reached(), false, 'without a selection only a full bitfield is complete')
  const picker = new PiecePicker(4, { random: seeded(2) })
  const all = new FileSelection(META, picker, 'all')
  assert.equal(all.active, true)
  assert.deepEqual(drain(picker).sort(), [0, 1, 2, 3])
})

test('a folder names every file below it; deselect keeps the pieces other selected files share', () => {
  const picker = new PiecePicker(4, { random: seeded(3) })
  const selection = new FileSelection(META, picker, 'lazy', [])
  assert.equal(selection.reached(), true, 'an empty selection is complete at once')
  selection.prioritize('/c', 'normal')
  selection.prioritize('b', 'normal')
  assert.equal(selection.reached(), false)
  selection.prioritize('/c/', 'skip')
  assert.deepEqual(drain(picker).sort(), [1, 2], 'piece 2 stays: b has bytes in it')
  for (const piece of [1, 2]) picker.markHave(piece)
  assert.equal(selection.reached(), true)
  assert.equal(selection.progress(), 1)
})

test('high files come first, in order; progress counts the selected pieces', () => {
  const picker = new PiecePicker(4, { random: seeded(4) })
  const selection = new FileSelection(META, picker, 'all')
  selection.prioritize('/c/d.txt', 'high')
  assert.deepEqual(drain(picker).slice(0, 2), [2, 3])
  picker.markHave(2)
  assert.equal(selection.progress(), 1 / 4)
  selection.prioritize('/a', 'skip')
  selection.prioritize('/b', 'skip')
  assert.equal(selection.progress(), 1 / 2, 'pieces 2 and 3 are left wanted, one held')
  selection.prioritize('/c/d.txt', 'normal')
  assert.equal(selection.priorityOf(2), 'normal')
})

test('unknown paths and indices: ENOENT from prioritize, skipped in the initial (so=) selection', () => {
  const picker = new PiecePicker(4)
  const selection = new FileSelection(META, picker, 'lazy', [2, 99_999, '/nope'])
  assert.equal(selection.missingBytes(new Bitfield(4)), 20, 'file 2 alone: pieces 2 and 3')
  throwsCode(() => selection.prioritize('/nope', 'normal'), 'ENOENT')
  throwsCode(() => selection.prioritize(4, 'normal'), 'ENOENT')
  throwsCode(() => selection.prioritize('/a', 'urgent' as 'high'), 'EINVAL')
  assert.deepEqual(filesOf(META, '/'), [0, 1, 2, 3])
  assert.deepEqual(filesOf(metaOf([['a', 5], ['pad/1', 5], ['b', 5]]), '/'), [0, 2], 'pad files are never selected')
  assert.deepEqual(filesOf(META, '/c/../a'), [0])
})
