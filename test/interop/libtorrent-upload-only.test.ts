/**
 * BEP21 upload_only against libtorrent 2.0, both ways, on loopback:
 * - we say it once everything we selected is here, and libtorrent sees it: its peer_info flags us
 *   `upload_only` (not `seed`: we hold only part) and it keeps downloading what we have;
 * - libtorrent in upload mode says it, and we read it: the peer is marked as only uploading while
 *   we download from it, and once our selection is done the connection is closed (by whichever end
 *   reads the other's upload_only first: neither wants anything of the other).
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tmpDir, until, writeRandomFile } from '../helpers/fixtures.js'
import { startJsonChild, type JsonChild } from '../helpers/json-child.js'
import { downloaded, localClient, STEP_MS } from './fixtures.js'
import { libtorrentMissing } from './lt-peer.js'

const skip = libtorrentMissing()
const PYTHON = '/usr/bin/python3'
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_upload_only.py')
const LIMIT_S = 60
/** Lines libtorrent may print before the one a test waits for (one per state change). */
const MAX_LINES = 200

interface PeerState { peer?: string, uploadOnly?: boolean, seed?: boolean, interesting?: boolean, disconnected?: string, message?: string, port?: number }

function watch (t: TestContext, args: string[]): JsonChild {
  return startJsonChild(t, 'lt_upload_only.py watch', PYTHON, [SCRIPT, 'watch', ...args], {
    env: { ...process.env, LT_PEER_LIMIT_S: String(LIMIT_S), LT_PEER_LOG: '1' }
  })
}

async function nextMatching (child: JsonChild, what: string, match: (s: PeerState) => boolean): Promise<PeerState> {
  for (let i = 0; i < MAX_LINES; i++) {
    const line = await child.next<PeerState>(what, STEP_MS)
    if (match(line)) return line
  }
  throw new Error(`${what}: not among libtorrent's first ${MAX_LINES} lines`)
}

/** A folder of two files, each starting a piece (pad), seeded by our client; its .torrent on disk. */
async function twoFiles (t: TestContext): Promise<{ dir: string, src: string, magnet: string, torrent: string, seederAddress: string }> {
  const dir = await tmpDir(t, 'tl-lt-upload-only-')
  const src = path.join(dir, 'box')
  await writeRandomFile(path.join(src, 'a.bin'), 6 * 1024 * 1024 + 7)
  await writeRandomFile(path.join(src, 'b.bin'), 2 * 1024 * 1024 + 3)
  const seeder = await localClient(t)
  const magnet = await seeder.seed(src, { pad: true })
  const torrent = path.join(dir, 'box.torrent')
  await fs.writeFile(torrent, seeder.torrentFile(magnet)!)
  return { dir, src, magnet, torrent, seederAddress: `127.0.0.1:${seeder.port}` }
}

test('libtorrent sees our upload_only once our selection is done, and still downloads what we have', { skip }, async (t) => {
  const s = await twoFiles(t)
  const partial = await localClient(t)
  const archive = await partial.lookup(s.magnet, { peers: [s.seederAddress], files: ['/a.bin'] })
  await downloaded(archive)
  const lt = watch(t, [s.torrent, path.join(s.dir, 'lt'), `127.0.0.1:${partial.port}`])
  await lt.next('listening port', STEP_MS)
  const seen = await nextMatching(lt, 'libtorrent flags us upload_only', (p) => p.uploadOnly === true)
  assert.equal(seen.seed, false, 'a partial seed is not a seed to libtorrent')
  const interested = seen.interesting === true ? seen : await nextMatching(lt, 'libtorrent interested in what we have', (p) => p.interesting === true)
  assert.equal(interested.uploadOnly, true)
})

test('libtorrent in upload mode says upload_only: we mark it, download our selection from it, then the connection ends', { skip }, async (t) => {
  const s = await twoFiles(t)
  const ltDir = path.join(s.dir, 'lt')
  await fs.mkdir(path.join(ltDir, 'box'), { recursive: true })
  await fs.copyFile(path.join(s.src, 'a.bin'), path.join(ltDir, 'box', 'a.bin'))
  const lt = watch(t, [s.torrent, ltDir, '-', '--upload-mode'])
  const { port } = await lt.next<{ port: number }>('listening port', STEP_MS)
  // Slow enough that the connection is looked at while the download runs.
  const leecher = await localClient(t)
  leecher.setLimits({ downloadLimit: 2 * 1024 * 1024 })
  const ltAddress = `127.0.0.1:${port}`
  const archive = await leecher.lookup(s.torrent, { peers: [ltAddress], files: ['/a.bin'] })
  const swarms = (leecher as unknown as { swarms: Map<string, { swarm: { peers: Set<{ address: string, uploadOnly: boolean, isSeed: boolean }> } }> }).swarms
  const peers = (): Array<{ address: string, uploadOnly: boolean, isSeed: boolean }> => [...swarms.get(archive.infoHash)?.swarm.peers ?? []]
  await until(() => peers().some((p) => p.uploadOnly), 20_000, 'libtorrent\'s upload_only was read')
  const ltPeer = peers().find((p) => p.uploadOnly)!
  assert.equal(ltPeer.isSeed, false, 'libtorrent holds one file of two: not a seed by its bitfield')
  assert.ok(archive.progress < 1, 'looked at while downloading')
  await downloaded(archive)
  assert.ok((await archive.readFile('/a.bin') as Buffer).equals(await fs.readFile(path.join(s.src, 'a.bin'))))
  await until(() => peers().length === 0, 20_000, 'the upload-only connection ended once our selection was done')
})
