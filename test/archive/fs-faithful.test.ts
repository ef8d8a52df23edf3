import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { Archive, type Stats } from '../../index.js'
import { tmpDir } from '../helpers/fixtures.js'
import { localClient, rejection, viaCallback } from './local.js'

const TEXT = 'héllo, archive! '.repeat(400)

async function draft (): Promise<Archive> {
  const archive = new Archive()
  await archive.writeFile('/docs/a.txt', TEXT)
  return archive
}

function collect (stream: NodeJS.ReadableStream): Promise<Array<string | Buffer>> {
  return new Promise((resolve, reject) => {
    const chunks: Array<string | Buffer> = []
    stream.on('data', (c: string | Buffer) => chunks.push(c))
    stream.on('end', () => resolve(chunks))
    stream.on('error', reject)
  })
}

test('mkdir takes node\'s options object, in promise and callback forms', async () => {
  const archive = new Archive()
  await archive.mkdir('/a/b', { recursive: true })
  assert.equal(archive.mkdir('/c/d', { recursive: true }, () => {}), undefined)
  await viaCallback<void>((cb) => archive.mkdir('/e', { recursive: true, mode: 0o755 }, cb))
  await viaCallback<void>((cb) => archive.mkdir('/f', cb))
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(await archive.readdir('/'), ['a', 'c', 'e', 'f'])
})

test('stat and lstat take node\'s options object; bigint is refused at the call', async () => {
  const archive = await draft()
  assert.equal((await archive.stat('/docs/a.txt', { bigint: false })).size, Buffer.byteLength(TEXT))
  const st = await viaCallback<Stats>((cb) => archive.stat('/docs/a.txt', {}, cb))
  assert.equal(st?.isFile(), true)
  assert.equal((await archive.lstat('/docs')).isDirectory(), true)
  const lst = await viaCallback<Stats>((cb) => archive.lstat('/docs/a.txt', cb))
  assert.equal(lst?.size, Buffer.byteLength(TEXT))
  assert.throws(() => archive.stat('/docs/a.txt', { bigint: true }), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => archive.stat(42 as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
})

test('createReadStream honours encoding and highWaterMark', async () => {
  const archive = await draft()
  const text = await collect(archive.createReadStream('/docs/a.txt', { encoding: 'utf8' }))
  assert.ok(text.every((c) => typeof c === 'string'))
  assert.equal(text.join(''), TEXT)
  assert.equal((await collect(archive.createReadStream('/docs/a.txt', 'utf8'))).join(''), TEXT)
  const small = await collect(archive.createReadStream('/docs/a.txt', { highWaterMark: 1000 })) as Buffer[]
  assert.ok(small.every((c) => c.length <= 1000), `chunks of ${small.map((c) => c.length).join(', ')}`)
  assert.equal(Buffer.concat(small).toString(), TEXT)
})

test('createReadStream throws on a negative or inverted range, as node:fs does', async () => {
  const archive = await draft()
  assert.throws(() => archive.createReadStream('/docs/a.txt', { start: -1 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => archive.createReadStream('/docs/a.txt', { start: 10, end: 5 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => archive.createReadStream('/docs/a.txt', { start: '1' as unknown as number }), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' })
})

test('an aborted read rejects with an AbortError that keeps code EABORTED', async () => {
  const archive = await draft()
  const err = await rejection(archive.readFile('/docs/a.txt', { signal: AbortSignal.abort() }))
  assert.equal(err.name, 'AbortError')
  assert.equal(err.code, 'EABORTED')
})

/** The error code node:fs gives `fn`, or null. */
function codeOf (fn: () => void): string | null {
  try {
    fn()
    return null
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code'
  }
}

test('property: createReadStream refuses exactly the start/end that fs.createReadStream refuses', async (t: TestContext) => {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'a.txt')
  fs.writeFileSync(file, TEXT)
  const archive = await draft()
  const position = fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 10_000 }), fc.double(), fc.constant(Infinity),
    fc.string({ maxLength: 3 }), fc.constant(null))
  fc.assert(fc.property(position, position, (start, end) => {
    const options = { start, end } as unknown as { start?: number, end?: number }
    const ours = codeOf(() => archive.createReadStream('/docs/a.txt', options).destroy())
    const node = codeOf(() => fs.createReadStream(file, options).destroy())
    assert.equal(ours, node, `start ${String(start)}, end ${String(end)}`)
  }), { numRuns: 300 })
})

test('open() gives a FileHandle: read at positions, readFile, stat, createReadStream, close', async () => {
  const archive = await draft()
  const handle = await archive.open('/docs/a.txt')
  const first = await handle.read(Buffer.alloc(5), 0, 5)
  assert.equal(first.bytesRead, 5)
  assert.equal(first.buffer.toString(), Buffer.from(TEXT).subarray(0, 5).toString())
  const next = await handle.read({ buffer: Buffer.alloc(4) })
  assert.equal(next.buffer.toString(), Buffer.from(TEXT).subarray(5, 9).toString(), 'the position advanced')
  const at = await handle.read(Buffer.alloc(3), 0, 3, 1)
  assert.equal(at.buffer.toString(), Buffer.from(TEXT).subarray(1, 4).toString())
  const past = await handle.read(Buffer.alloc(3), 0, 3, 1e9)
  assert.equal(past.bytesRead, 0)
  assert.equal(await handle.readFile('utf8'), TEXT)
  assert.equal((await handle.stat()).size, Buffer.byteLength(TEXT))
  assert.equal((await collect(handle.createReadStream({ encoding: 'utf8' }))).join(''), TEXT)
  await handle.close()
  assert.equal((await rejection(handle.stat())).code, 'ECLOSED')
  assert.equal((await rejection(archive.open('/missing'))).code, 'ENOENT')
  await archive.writeFile('/x', 'y')
  await archive.close()
  assert.equal((await rejection(archive.open('/docs/a.txt'))).code, 'ECLOSED')
})

test('open() with a write flag on a sealed archive rejects with EROFS', async (t) => {
  const archive = await draft()
  const client = await localClient(t)
  await client.seed(archive)
  assert.equal((await rejection(archive.open('/docs/a.txt', 'w'))).code, 'EROFS')
  assert.equal((await rejection(archive.open('/docs/a.txt', 'r+'))).code, 'EROFS')
  const handle = await archive.open('/docs/a.txt', 'r')
  assert.equal(await handle.readFile('utf8'), TEXT)
  await handle.close()
  await archive.close()
})
