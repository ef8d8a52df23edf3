import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import type { Metainfo } from '../../lib/metainfo/types.js'
import { STEP_MS, localClient, writeMultiFile } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 90
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_v2meta.py')

interface LtView {
  v1: string
  v2: string
  name: string
  pieceLength: number
  files: Array<{ path: string, size: number, offset: number, root: string }>
}

/** Runs lt_v2meta.py to its end (bounded by a timeout) and returns libtorrent's view. */
function lt (...args: string[]): LtView {
  const run = spawnSync('/usr/bin/python3', [SCRIPT, ...args], { encoding: 'utf8', timeout: STEP_MS })
  assert.equal(run.status, 0, `lt_v2meta.py ${args[0]} failed: ${run.stderr}`)
  return JSON.parse(run.stdout) as LtView
}

/** Ours against libtorrent's: the same infohashes, and per stored file path, length and root. */
function assertSame (ours: Metainfo, theirs: LtView, version: 2 | 'hybrid'): void {
  assert.equal(ours.version, version)
  assert.equal(ours.infoHashV2?.toString('hex'), theirs.v2)
  assert.equal(ours.infoHash.toString('hex'), version === 2 ? theirs.v2.slice(0, 40) : theirs.v1)
  const stored = ours.files.filter((f) => !f.pad)
  assert.deepEqual(
    stored.map((f) => ({ path: ours.multiFile ? `${ours.name}/${f.path}` : f.path, size: f.length, root: f.root?.toString('hex') ?? '' })),
    theirs.files.map((f) => ({ path: f.path, size: f.size, root: f.root }))
  )
  for (const file of stored) if (file.length > 0) assert.equal(file.offset % ours.pieceLength, 0)
}

test('libtorrent creates v2-only and hybrid torrents; we read the same infohashes and file roots', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(src)
  for (const version of ['v2', 'hybrid'] as const) {
    const file = path.join(dir, `${version}.torrent`)
    const theirs = lt('create', src, file, version, String(64 * 1024))
    const ours = parseTorrent(await fs.readFile(file))
    assertSame(ours, theirs, version === 'v2' ? 2 : 'hybrid')
    assert.ok((ours.pieceLayers?.size ?? 0) > 0, 'the piece layers were read')
  }
})

test('we create v2-only and hybrid torrents; libtorrent loads them with the same hashes and roots', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(src)
  await writeRandomFile(path.join(dir, 'one.bin'), 2 * 1024 * 1024 + 5)
  const client = await localClient(t)
  for (const version of [2, 'hybrid'] as const) {
    for (const source of [src, path.join(dir, 'one.bin')]) {
      const magnet = await client.seed(source, { version })
      const file = path.join(dir, `ours-${version}.torrent`)
      await fs.writeFile(file, client.torrentFile(magnet)!)
      assertSame(parseTorrent(await fs.readFile(file)), lt('info', file), version)
    }
  }
})

test('we seed a hybrid torrent (the default); libtorrent downloads it by .torrent, byte for byte', { skip }, async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src')
  await writeMultiFile(src)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src)
  const torrentFile = path.join(dir, 'ours.torrent')
  const meta = parseTorrent(seeder.torrentFile(magnet)!)
  assert.equal(meta.version, 'hybrid')
  await fs.writeFile(torrentFile, seeder.torrentFile(magnet)!)
  const out = path.join(dir, 'out')
  await startLtPeer(t, ['download', torrentFile, out, `127.0.0.1:${seeder.port}`], LT_LIMIT_S).next('finished download', STEP_MS)
  for (const f of meta.files.filter((x) => !x.pad)) {
    assert.ok((await fs.readFile(path.join(out, 'src', f.path))).equals(await fs.readFile(path.join(src, f.path))), `${f.path} differs`)
  }
})
