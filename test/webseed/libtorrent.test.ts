import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { once, tmpDir } from '../helpers/fixtures.js'
import { libtorrentMissing } from '../interop/lt-peer.js'
import { served, startMirror } from './mirror.js'

const skip = libtorrentMissing()

/** libtorrent makes the .torrent (a url-list with our mirror); we read it and download from the mirror alone. */
test('a libtorrent-made .torrent with url-list downloads from its web seed', { skip }, async (t) => {
  const dir = await tmpDir(t, 'tl-webseed-lt-')
  const root = path.join(dir, 'lt pack')
  const files = new Map([['a.bin', randomBytes(70_000)], ['sub/b c.bin', randomBytes(40_000)]])
  for (const [name, data] of files) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true })
    await fs.writeFile(path.join(root, name), data)
  }
  const mirror = await startMirror(t, served('lt pack', files))
  const script = [
    'import libtorrent as lt, sys, base64',
    'fs = lt.file_storage()',
    'lt.add_files(fs, sys.argv[1])',
    'ct = lt.create_torrent(fs, 16384, flags=lt.create_torrent.v1_only)',
    'ct.add_url_seed(sys.argv[2])',
    'lt.set_piece_hashes(ct, sys.argv[3])',
    'sys.stdout.write(base64.b64encode(lt.bencode(ct.generate())).decode())'
  ].join('\n')
  const made = spawnSync('/usr/bin/python3', ['-c', script, root, mirror.url, dir], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(made.status, 0, made.stderr)
  const bytes = Buffer.from(made.stdout, 'base64')
  assert.deepEqual(parseTorrent(bytes).webSeeds, [mirror.url])
  const leecher = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  t.after(() => leecher.stop())
  await leecher.start()
  const archive = await leecher.lookup(bytes, { download: 'all', timeout: 10_000 })
  if (archive.progress < 1) await once(archive, 'done', 20_000)
  for (const [name, data] of files) assert.ok(Buffer.from(await archive.readFile(`/${name}`)).equals(data), name)
  assert.equal(archive.stats().webSeeds[0]!.downloaded, 110_000)
})
