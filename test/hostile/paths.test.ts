import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createHash } from 'node:crypto'
import bencode, { type EncodableValue } from 'bencode'
import RandomAccessMemory from 'random-access-memory'
import { Torrent, TrackerlessError } from '../../index.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { once, tmpDir } from '../helpers/fixtures.js'

const PIECE = 16384

/** A torrent whose files hold only zeros, so that any seeder can serve it from memory. */
function torrent (info: { [key: string]: EncodableValue }, total: number): Buffer {
  const zeros = Buffer.alloc(PIECE)
  const pieces: Buffer[] = []
  for (let at = 0; at < total; at += PIECE) pieces.push(createHash('sha1').update(zeros.subarray(0, Math.min(PIECE, total - at))).digest())
  return Buffer.from(bencode.encode({ info: { 'piece length': PIECE, pieces: Buffer.concat(pieces), ...info } }))
}

function multi (files: Array<{ [key: string]: EncodableValue }>, name = 'archive'): Buffer {
  const total = files.reduce((n, f) => n + (f.length as number), 0)
  return torrent({ name, files }, total)
}

const REJECTED: Array<[string, Buffer]> = [
  ['a ".." segment', multi([{ length: 10, path: ['..', 'evil'] }])],
  ['".." deeper down', multi([{ length: 10, path: ['a', '..', '..', 'evil'] }])],
  ['an absolute path', multi([{ length: 10, path: ['/tmp/evil'] }])],
  ['an empty segment (a leading slash)', multi([{ length: 10, path: ['', 'tmp', 'evil'] }])],
  ['backslashes', multi([{ length: 10, path: ['a\\..\\..\\evil'] }])],
  ['a drive letter', multi([{ length: 10, path: ['C:', 'evil'] }])],
  ['a drive-relative segment', multi([{ length: 10, path: ['C:evil'] }])],
  ['a NUL byte', multi([{ length: 10, path: ['ev\0il'] }])],
  ['a 300-byte segment', multi([{ length: 10, path: ['x'.repeat(300)] }])],
  ['a path over 4096 bytes', multi([{ length: 10, path: Array.from({ length: 20 }, () => 'y'.repeat(250)) }])],
  ['".." as the name', torrent({ name: '..', length: 10 }, 10)],
  ['an absolute name', torrent({ name: '/tmp/evil', length: 10 }, 10)],
  ['a drive letter as the name', torrent({ name: 'C:\\evil', length: 10 }, 10)],
  ['".." in name.utf-8', torrent({ name: 'fine', 'name.utf-8': '..', length: 10 }, 10)],
  ['".." in path.utf-8', multi([{ length: 10, path: ['fine'], 'path.utf-8': ['..', 'evil'] }])],
  ['a file that is also a folder', multi([{ length: 10, path: ['a'] }, { length: 10, path: ['a', 'b'] }])],
  ['the same path twice', multi([{ length: 10, path: ['a'] }, { length: 10, path: ['a'] }])]
]

const ACCEPTED: Array<[string, Buffer]> = [
  ['thousands of files', multi(Array.from({ length: 3000 }, (_, i) => ({ length: 7, path: ['d' + (i % 30), `f${i}`] })))],
  ['symlink attributes pointing out', multi([
    { length: 0, path: ['link'], attr: 'l', 'symlink path': ['..', '..', '..', 'etc', 'passwd'] },
    { length: 20_000, path: ['real'] }
  ])],
  ['names of the longest allowed length and odd characters', multi([
    { length: 5000, path: ['z'.repeat(255)] }, { length: 5, path: ['...', '.. ', ' ..'] }, { length: 5, path: ['%2e%2e', 'CON'] }
  ])]
]

/** Every entry under `dir`, relative, with symbolic links marked. */
async function listing (dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true })
  return entries.map((e) => path.relative(dir, path.join(e.parentPath, e.name)) + (e.isSymbolicLink() ? ' -> link' : '')).sort()
}

test('malicious torrents are refused, by lookup too, and nothing is written anywhere', async (t) => {
  const sandbox = await tmpDir(t, 'tl-paths-')
  const out = path.join(sandbox, 'out')
  await fs.mkdir(out)
  const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: out })
  await client.start()
  t.after(() => client.stop())
  for (const [what, bytes] of REJECTED) {
    assert.throws(() => parseTorrent(bytes), (err: unknown) => err instanceof TrackerlessError && err.code === 'EBADTORRENT', what)
    await assert.rejects(client.lookup(bytes, { download: 'all' }), (err: unknown) => err instanceof TrackerlessError && err.code === 'EBADTORRENT', what)
  }
  assert.deepEqual(await listing(sandbox), ['out'])
})

test('odd but valid torrents download inside the target folder only, with no symbolic link', async (t) => {
  const sandbox = await tmpDir(t, 'tl-paths-')
  const out = path.join(sandbox, 'out')
  await fs.mkdir(out)
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: out })
  await leecher.start()
  t.after(() => leecher.stop())
  for (const [what, bytes] of ACCEPTED) {
    const meta = parseTorrent(bytes)
    // The seeder serves zeros from memory: each file as long as the torrent says.
    const lengths = new Map(meta.files.map((f) => [`${meta.name}/${f.path}`, f.length]))
    const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: (p) => new RandomAccessMemory(Buffer.alloc(lengths.get(p) ?? 0)) })
    await seeder.start()
    t.after(() => seeder.stop())
    await seeder.lookup(bytes, { download: 'all' })
    const archive = await leecher.lookup(bytes, { download: 'all', peers: [`127.0.0.1:${seeder.port}`] })
    if (archive.progress < 1) await once(archive, 'done', 60_000)
    assert.equal(archive.progress, 1, what)
  }
  const inside = await listing(sandbox)
  assert.ok(inside.every((p) => p === 'out' || p.startsWith('out/')), `written outside out/: ${inside.filter((p) => !p.startsWith('out')).join(', ')}`)
  assert.ok(inside.every((p) => !p.endsWith(' -> link')), 'a symbolic link was created')
  assert.ok(inside.includes('out/archive/d0/f0') && inside.includes(`out/archive/${'z'.repeat(255)}`))
})
