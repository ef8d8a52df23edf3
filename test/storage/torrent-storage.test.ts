import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { pieceHashes } from '../helpers/fixtures.js'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import RandomAccessMemory from 'random-access-memory'
import { TorrentStorage, StorageError } from '../../lib/storage/torrent-storage.js'
import { SCAN_READ_SIZE } from '../../lib/storage/scan.js'
import { directoryStorage, memoryStorage } from '../../lib/storage/factories.js'
import type { StorageFactory } from '../../lib/storage/types.js'
import type { FileEntry, Layout } from '../../lib/metainfo/types.js'
import { TrackerlessError } from '../../lib/errors.js'

type Callback<T> = (err: Error | null, value?: T) => void

interface Fixture {
  layout: Layout
  /** The torrent's bytes, pad bytes zero. */
  data: Buffer
  hashes: Buffer
}

/** A torrent over `files` with random contents (pad files zero). */
function fixture (pieceLength: number, files: Array<{ path: string, length: number, pad?: boolean }>): Fixture {
  let offset = 0
  const entries: FileEntry[] = files.map((f) => {
    const e = { path: f.path, length: f.length, offset, pad: f.pad === true, attr: f.pad === true ? 'p' : '' }
    offset += f.length
    return e
  })
  const data = randomBytes(offset)
  for (const e of entries) if (e.pad) data.fill(0, e.offset, e.offset + e.length)
  const layout = { pieceLength, length: offset, files: entries }
  return { layout, data, hashes: pieceHashes(data, pieceLength) }
}

function pieceOf (fx: Fixture, index: number): Buffer {
  const pl = fx.layout.pieceLength
  return fx.data.subarray(index * pl, Math.min((index + 1) * pl, fx.data.length))
}

/** Several files, an empty one and a pad file in the middle; pieces span file boundaries. */
const MIXED = [
  { path: 'a.bin', length: 100 },
  { path: 'empty.txt', length: 0 },
  { path: 'docs/b.bin', length: 37 },
  { path: '.pad/27', length: 27, pad: true },
  { path: 'docs/c.bin', length: 200 },
  { path: 'z/empty2', length: 0 }
]

function open (fx: Fixture, factory: StorageFactory, extra: Partial<{ readCachePieces: number, maxOpenFiles: number }> = {}): TorrentStorage {
  return new TorrentStorage({ layout: fx.layout, name: 'tor', multiFile: true, pieceHashes: fx.hashes, factory, ...extra })
}

async function tmpDir (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trackerless-storage-'))
  t.after(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

async function writeAll (st: TorrentStorage, fx: Fixture, only?: number[]): Promise<void> {
  for (const i of only ?? Array.from({ length: st.pieceCount }, (_, k) => k)) {
    await st.writePiece(i, Buffer.from(pieceOf(fx, i)))
  }
}

/** Counts reads reaching random-access-memory: a real storage with a counter in front. */
function countingMemory (): { factory: StorageFactory, reads: () => number } {
  let reads = 0
  class CountingMemory extends RandomAccessMemory {
    override read (offset: number, size: number, cb: Callback<Buffer>): void {
      reads++
      super.read(offset, size, cb)
    }
  }
  const files = new Map<string, CountingMemory>()
  const factory: StorageFactory = (p) => {
    let f = files.get(p)
    if (f === undefined) files.set(p, f = new CountingMemory())
    return f
  }
  return { factory, reads: () => reads }
}

async function checkReadsBack (st: TorrentStorage, fx: Fixture): Promise<void> {
  for (let i = 0; i < st.pieceCount; i++) {
    const piece = pieceOf(fx, i)
    assert.deepEqual(await st.read(i, 0, piece.length), piece, `piece ${i}`)
    assert.deepEqual(await st.read(i, 3, 5), piece.subarray(3, 8), `block of piece ${i}`)
    assert.equal(await st.verify(i, await st.read(i, 0, piece.length)), true)
  }
}

test('pieces across files round-trip in memory, pad bytes read as zeros', async () => {
  const fx = fixture(64, MIXED)
  const st = open(fx, memoryStorage())
  assert.equal(st.pieceCount, 6)
  assert.equal(st.pieceSize(5), 364 - 5 * 64)
  await writeAll(st, fx)
  await checkReadsBack(st, fx)
  await st.close()
})

test('pieces across files round-trip on disk; pad files are never created', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  const st = open(fx, directoryStorage(dir), { readCachePieces: 0 })
  await writeAll(st, fx)
  await checkReadsBack(st, fx)
  await st.createEmptyFiles()
  await st.close()
  for (const f of fx.layout.files) {
    const where = path.join(dir, 'tor', f.path)
    if (f.pad) {
      await assert.rejects(fs.stat(where), { code: 'ENOENT' })
    } else {
      assert.deepEqual(await fs.readFile(where), fx.data.subarray(f.offset, f.offset + f.length), f.path)
    }
  }
})

test('a single-file torrent is stored at its name', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(16, [{ path: 'one.bin', length: 50 }])
  const st = new TorrentStorage({ layout: fx.layout, name: 'one.bin', multiFile: false, pieceHashes: fx.hashes, factory: directoryStorage(dir) })
  await writeAll(st, fx)
  await st.close()
  assert.deepEqual(await fs.readFile(path.join(dir, 'one.bin')), fx.data)
})

test('pieces larger than one write chunk land whole, also where a file boundary splits a chunk', async (t) => {
  const dir = await tmpDir(t)
  // 1 MiB + 5 pieces (more than four 256 KiB chunks each); the files end at odd offsets within chunks.
  const pieceLength = (1 << 20) + 5
  const fx = fixture(pieceLength, [
    { path: 'a.bin', length: 300_001 },
    { path: 'b.bin', length: 2 * pieceLength - 300_001 - 7 }
  ])
  const st = open(fx, directoryStorage(dir), { readCachePieces: 0 })
  await writeAll(st, fx)
  await st.close()
  for (const f of fx.layout.files) {
    assert.deepEqual(await fs.readFile(path.join(dir, 'tor', f.path)), fx.data.subarray(f.offset, f.offset + f.length), f.path)
  }
})

test('verify rejects a corrupted piece and a piece of the wrong size', async () => {
  const fx = fixture(64, MIXED)
  const st = open(fx, memoryStorage())
  const good = Buffer.from(pieceOf(fx, 2))
  assert.equal(await st.verify(2, good), true)
  const bad = Buffer.from(good)
  bad[10]! ^= 1
  assert.equal(await st.verify(2, bad), false)
  assert.equal(await st.verify(2, good.subarray(1)), false)
  assert.equal(await st.verify(3, good), false)
  assert.equal(await st.verify(99, good), false)
  await st.close()
})

test('scan after a partial write finds exactly the written pieces, and creates nothing', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  const fresh = open(fx, directoryStorage(dir))
  const none = await fresh.scan()
  assert.equal(none.count, 0)
  await fresh.close()
  assert.deepEqual(await fs.readdir(dir), [])

  const writer = open(fx, directoryStorage(dir))
  // Piece 4 leaves a hole of zeros before it in docs/c.bin: the size says "maybe", the hash says no.
  await writeAll(writer, fx, [0, 4])
  await writer.close()

  const reader = open(fx, directoryStorage(dir))
  const progress: number[] = []
  const have = await reader.scan((checked, total) => { progress.push(checked); assert.equal(total, 6) })
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((i) => have.get(i)), [0, 4])
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6])
  await reader.close()
})

test('scan after corrupting bytes of one file marks just the pieces holding them', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  const writer = open(fx, directoryStorage(dir))
  await writeAll(writer, fx)
  await writer.close()

  const file = path.join(dir, 'tor', 'docs/c.bin')
  const handle = await fs.open(file, 'r+')
  // docs/c.bin starts at torrent byte 164: its byte 30 is in piece 3, its byte 199 in piece 5.
  await handle.write(Buffer.from([fx.data[164 + 30]! ^ 0xff]), 0, 1, 30)
  await handle.write(Buffer.from([fx.data[164 + 199]! ^ 0xff]), 0, 1, 199)
  await handle.close()
  const before = await fs.readFile(file)

  const st = open(fx, directoryStorage(dir))
  const have = await st.scan()
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((i) => !have.get(i)), [3, 5])
  await st.close()
  assert.deepEqual(await fs.readFile(file), before, 'scan must not modify data')
})

test('scan hashes pieces longer than its read size in parts, across files, in two buffers of that size', async (t) => {
  const dir = await tmpDir(t)
  // Pieces of 2.5 parts, so that parts end inside pieces and pieces end inside parts' buffers.
  const pieceLength = 2 * SCAN_READ_SIZE + SCAN_READ_SIZE / 2
  const fx = fixture(pieceLength, [{ path: 'a.bin', length: pieceLength + 1000 }, { path: 'b.bin', length: 2 * pieceLength - 1000 - 77 }])
  const writer = open(fx, directoryStorage(dir))
  await writeAll(writer, fx)
  await writer.close()
  // One byte in the last part of piece 1, which lies in b.bin.
  const handle = await fs.open(path.join(dir, 'tor', 'b.bin'), 'r+')
  const at = 2 * pieceLength - 10 - (pieceLength + 1000)
  await handle.write(Buffer.from([fx.data[2 * pieceLength - 10]! ^ 0xff]), 0, 1, at)
  await handle.close()
  const st = open(fx, directoryStorage(dir))
  const have = await st.scan()
  assert.deepEqual([0, 1, 2].filter((i) => have.get(i)), [0, 2])
  await st.close()
})

test('scan treats a truncated file as missing pieces without reading them', async () => {
  const fx = fixture(64, MIXED)
  const { factory, reads } = countingMemory()
  const st = open(fx, factory)
  await writeAll(st, fx, [0, 1])
  const have = await st.scan()
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((i) => have.get(i)), [0, 1])
  // Piece 0 is in a.bin alone, piece 1 spans a.bin and b.bin; pieces 2..5 need c.bin, which is empty.
  assert.equal(reads(), 1 + 2)
  await st.close()
})

test('a memory factory copies open files to a second opener and frees them on close, so a torrent reopened after close starts empty', async () => {
  const fx = fixture(64, MIXED)
  const factory = memoryStorage()
  const first = open(fx, factory)
  await writeAll(first, fx, [1, 2, 5])
  const second = open(fx, factory)
  const have = await second.scan()
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((i) => have.get(i)), [1, 2, 5])
  await Promise.all([first.close(), second.close()])
  const third = open(fx, factory)
  const after = await third.scan()
  assert.deepEqual([0, 1, 2, 3, 4, 5].filter((i) => after.get(i)), [])
  await third.close()
})

test('hashAll equals the SHA-1s of the concatenated files, pad zeros included', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  const writer = open(fx, directoryStorage(dir))
  await writeAll(writer, fx)
  await writer.close()
  const st = new TorrentStorage({ layout: fx.layout, name: 'tor', multiFile: true, pieceHashes: null, factory: directoryStorage(dir) })
  assert.deepEqual(await st.hashAll(), fx.hashes)
  await st.close()
})

test('hashAll with reads larger than a piece and pieces larger than a read', async () => {
  for (const pieceLength of [16 * 1024, 8 * 1024 * 1024]) {
    const fx = fixture(pieceLength, [{ path: 'x', length: 5 * 1024 * 1024 + 3 }, { path: 'p', length: 77, pad: true }, { path: 'y', length: 1000 }])
    const factory = memoryStorage()
    const writer = open(fx, factory)
    await writeAll(writer, fx)
    // Memory files live while open: the reader gets a copy of the writer's.
    const st = new TorrentStorage({ layout: fx.layout, name: 'tor', multiFile: true, pieceHashes: null, factory })
    assert.deepEqual(await st.hashAll(), fx.hashes, `piece length ${pieceLength}`)
    await Promise.all([writer.close(), st.close()])
  }
})

test('createEmptyFiles creates zero-length files and leaves existing ones alone', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  await fs.mkdir(path.join(dir, 'tor'), { recursive: true })
  await fs.writeFile(path.join(dir, 'tor', 'empty.txt'), 'keep me')
  const st = open(fx, directoryStorage(dir))
  await st.createEmptyFiles()
  await st.close()
  assert.equal(await fs.readFile(path.join(dir, 'tor', 'empty.txt'), 'utf8'), 'keep me')
  assert.equal((await fs.stat(path.join(dir, 'tor', 'z/empty2'))).size, 0)
  await assert.rejects(fs.stat(path.join(dir, 'tor', 'a.bin')), { code: 'ENOENT' })
})

test('a torrent of only empty files has no pieces and still creates its files', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, [{ path: 'e1', length: 0 }, { path: 'sub/e2', length: 0 }])
  const st = open(fx, directoryStorage(dir))
  assert.equal(st.pieceCount, 0)
  assert.equal((await st.scan()).length, 0)
  assert.equal((await st.hashAll()).length, 0)
  await st.createEmptyFiles()
  await st.close()
  assert.deepEqual((await fs.readdir(path.join(dir, 'tor'))).sort(), ['e1', 'sub'])
})

test('concurrent reads of one piece share one underlying read', async () => {
  const fx = fixture(64, MIXED)
  const { factory, reads } = countingMemory()
  // The writer shares the reader's files, so it stays open until the end.
  const writer = open(fx, factory, { readCachePieces: 0 })
  await writeAll(writer, fx)

  const st = open(fx, factory)
  const blocks = await Promise.all(Array.from({ length: 16 }, (_, k) => st.read(4, k * 4, 4)))
  assert.deepEqual(Buffer.concat(blocks), pieceOf(fx, 4))
  assert.equal(reads(), 1, 'piece 4 lies in one file: one read')
  await Promise.all([st.read(1, 0, 8), st.read(1, 8, 8), st.read(1, 60, 4)])
  assert.equal(reads(), 1 + 2, 'piece 1 spans two files: one read per file')
  await st.read(4, 0, 64)
  assert.equal(reads(), 3, 'a later read of a cached piece reads nothing')
  await st.close()
  await writer.close()
})

test('the read cache evicts the least recently used piece; a write invalidates, and does not keep, its piece', async () => {
  const fx = fixture(64, MIXED)
  const { factory, reads } = countingMemory()
  const st = open(fx, factory, { readCachePieces: 2 })
  await writeAll(st, fx, [0, 4, 5])
  await st.read(4, 0, 1) // miss; cache: 4
  await st.read(0, 0, 1) // miss; cache: 4, 0
  assert.equal(reads(), 2)
  await st.read(4, 0, 1) // hit; cache: 0, 4
  assert.equal(reads(), 2)
  await st.read(5, 0, 1) // miss; evicts 0
  await st.read(0, 0, 1) // miss
  assert.equal(reads(), 4)
  const data = Buffer.from(pieceOf(fx, 0))
  await st.writePiece(0, data)
  data.fill(0) // the caller reuses its buffer: the storage must not have kept it
  assert.deepEqual(await st.read(0, 0, st.pieceSize(0)), pieceOf(fx, 0))
  assert.equal(reads(), 5, 'the written piece is read again, not served from the old cache entry')
  await st.close()
})

test('cachedRange serves a cached piece at once, and nothing else: not before the read ends, not after a write or close', async () => {
  const fx = fixture(64, MIXED)
  const { factory, reads } = countingMemory()
  const st = open(fx, factory, { readCachePieces: 2 })
  await writeAll(st, fx, [0, 4, 5])
  assert.equal(st.cachedRange(4, 0, 8), null, 'never read')
  const reading = st.read(4, 0, 1)
  assert.equal(st.cachedRange(4, 0, 8), null, 'still being read')
  await reading
  assert.deepEqual(st.cachedRange(4, 8, 16), pieceOf(fx, 4).subarray(8, 24))
  assert.deepEqual(st.cachedRange(4, 0, 64), pieceOf(fx, 4))
  assert.throws(() => st.cachedRange(4, 60, 8), RangeError)
  assert.equal(reads(), 1)
  await st.read(0, 0, 1)
  assert.notEqual(st.cachedRange(4, 0, 1), null, 'a hit makes 4 the most recent...')
  await st.read(5, 0, 1)
  assert.equal(st.cachedRange(0, 0, 1), null, '...so 5 evicts 0')
  assert.notEqual(st.cachedRange(4, 0, 1), null)
  await st.writePiece(4, Buffer.from(pieceOf(fx, 4)))
  assert.equal(st.cachedRange(4, 0, 1), null, 'a write drops the cached copy')
  await st.close()
  assert.equal(st.cachedRange(5, 0, 1), null, 'closed')
})

test('a window loaded for upload has its buffer reused once dropped and sent, counts until then, and never one that read() lent out', async (t) => {
  // Pieces past Buffer's 4 KiB pool, so that each buffer has a memory of its own to compare.
  const size = 16384
  const fx = fixture(size, [{ path: 'one.bin', length: size * 6 }])
  let sent = false
  const st = new TorrentStorage({
    layout: fx.layout, name: 'one.bin', multiFile: false, pieceHashes: fx.hashes, factory: directoryStorage(await tmpDir(t)),
    readCachePieces: 2, reuseWhen: () => () => sent
  })
  await writeAll(st, fx)
  const memoryOf = async (index: number): Promise<ArrayBufferLike> => {
    assert.equal(await st.load(index, 0, size), true, `piece ${index} was not cached`)
    const view = st.cachedRange(index, 0, size)
    assert.ok(view !== null)
    assert.deepEqual(view, pieceOf(fx, index))
    return view.buffer
  }
  const first = await memoryOf(0)
  const second = await memoryOf(1)
  // Both would have to be dropped while their bytes may still wait in a socket: they still count.
  assert.equal(await st.load(2, 0, size), false, 'a buffer still being sent leaves no room: the block is read alone')
  assert.equal(st.cachedRange(2, 0, size), null)
  assert.deepEqual(await st.readDirect(2, 16, 32), pieceOf(fx, 2).subarray(16, 48))
  sent = true
  assert.ok(await memoryOf(2) === first, 'a dropped buffer whose bytes were sent is read into again')
  assert.ok(await memoryOf(3) === second)
  // read() lends its view out, so that piece's buffer is never read into again.
  const lent = await st.read(4, 0, size)
  assert.deepEqual(lent, pieceOf(fx, 4))
  for (const index of [5, 0, 1, 2, 3]) assert.ok(await memoryOf(index) !== lent.buffer, `piece ${index} was read into a lent buffer`)
  assert.deepEqual(lent, pieceOf(fx, 4))
  await st.close()
})

test('files beyond maxOpenFiles are closed and reopened on demand', async (t) => {
  const dir = await tmpDir(t)
  const files = Array.from({ length: 12 }, (_, i) => ({ path: `d/f${i}`, length: 10 + i }))
  const fx = fixture(32, files)
  const st = open(fx, directoryStorage(dir), { maxOpenFiles: 2, readCachePieces: 0 })
  await writeAll(st, fx)
  await checkReadsBack(st, fx)
  assert.equal((await st.scan()).count, st.pieceCount)
  await st.close()
})

test('close is idempotent and every operation afterwards rejects with ECLOSED', async () => {
  const fx = fixture(64, MIXED)
  const st = open(fx, memoryStorage())
  await writeAll(st, fx, [0])
  await st.close()
  await st.close()
  const closed = (e: unknown): boolean => e instanceof TrackerlessError && e.code === 'ECLOSED'
  await assert.rejects(st.read(0, 0, 1), closed)
  await assert.rejects(st.writePiece(0, Buffer.from(pieceOf(fx, 0))), closed)
  await assert.rejects(st.verify(0, pieceOf(fx, 0)), closed)
  await assert.rejects(st.scan(), closed)
  await assert.rejects(st.hashAll(), closed)
  await assert.rejects(st.createEmptyFiles(), closed)
})

test('bad ranges and bad piece sizes are refused', async () => {
  const fx = fixture(64, MIXED)
  const st = open(fx, memoryStorage())
  await assert.rejects(st.read(0, 60, 5), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(st.read(6, 0, 1), { code: 'ERR_OUT_OF_RANGE' })
  await assert.rejects(st.writePiece(0, Buffer.alloc(63)), RangeError)
  assert.throws(() => new TorrentStorage({ layout: fx.layout, name: 'tor', multiFile: true, pieceHashes: Buffer.alloc(20), factory: memoryStorage() }), { code: 'EBADTORRENT' })
  await st.close()
})

test('a storage error keeps its code and names the file', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, MIXED)
  // A folder where a.bin should be: the write fails with the OS's own code.
  await fs.mkdir(path.join(dir, 'tor', 'a.bin'), { recursive: true })
  const st = open(fx, directoryStorage(dir))
  await assert.rejects(st.writePiece(0, Buffer.from(pieceOf(fx, 0))), (e: unknown) => {
    assert.ok(e instanceof StorageError)
    assert.equal(e.code, 'EISDIR')
    assert.equal(e.path, 'tor/a.bin')
    assert.match(e.message, /"tor\/a\.bin"/)
    return true
  })
  await st.close()
})

test('a file path escaping the directory is refused', async (t) => {
  const dir = await tmpDir(t)
  const fx = fixture(64, [{ path: '../../outside', length: 10 }])
  const st = open(fx, directoryStorage(path.join(dir, 'inner')))
  await assert.rejects(st.writePiece(0, Buffer.from(pieceOf(fx, 0))), { code: 'EBADTORRENT' })
  await st.close()
  assert.deepEqual(await fs.readdir(dir), [])
})

test('close during a scan stops the scan with ECLOSED', async (t) => {
  const dir = await tmpDir(t)
  const files = Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, length: 40 }))
  const fx = fixture(32, files)
  const writer = open(fx, directoryStorage(dir))
  await writeAll(writer, fx)
  await writer.close()
  const st = open(fx, directoryStorage(dir))
  let closing: Promise<void> | null = null
  const scanning = st.scan((checked) => { if (checked === 3) closing = st.close() })
  await assert.rejects(scanning, { code: 'ECLOSED' })
  await closing
})
