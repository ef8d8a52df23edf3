import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../lib/client/torrent.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { Cli, OFFLINE, run } from './child.js'

/** A .torrent whose seeder is gone: the file list is known at once, and no byte can come. */
async function orphanTorrent (dir: string): Promise<string> {
  await writeRandomFile(path.join(dir, 'src', 'site', 'a.bin'), 100_000)
  const client = new Torrent({ dht: false, lsd: false, host: '127.0.0.1' })
  await client.start()
  try {
    const file = path.join(dir, 'site.torrent')
    await fs.writeFile(file, client.torrentFile(await client.seed(path.join(dir, 'src', 'site')))!)
    return file
  } finally {
    await client.stop()
  }
}

test('get with a .torrent and no peer: says so, then exits 1 at --timeout (the data wait is bounded too)', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-wait-')
  const torrent = await orphanTorrent(dir)
  const r = await run(['get', torrent, '-o', path.join(dir, 'out'), '--timeout', '1000', ...OFFLINE])
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /no peers yet to download from; peers found: 0; DHT off; LSD off; named peers \(--peer\): none/)
  assert.match(r.stderr, /^trackerless: no data arrived for 1000 ms .*--timeout/m)
})

test('get by infohash with no peer: the metadata timeout speaks CLI flags, not the API', async () => {
  const r = await run(['get', '34'.repeat(20), '--timeout', '600', '--peer', '127.0.0.1:9', ...OFFLINE])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /no peers yet with the file list; .*named peers \(--peer\): 127\.0\.0\.1:9/)
  assert.match(r.stderr, /^trackerless: no peer sent the metadata within 600 ms \(.*\); .*--bootstrap.*--timeout/m)
  assert.doesNotMatch(r.stderr, /\{ timeout \}/)
})

test('get --no-timeout keeps waiting past any --timeout, until Ctrl-C', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-wait-')
  const torrent = await orphanTorrent(dir)
  const cli = new Cli(['get', torrent, '-o', path.join(dir, 'out'), '--timeout', '300', '--no-timeout', ...OFFLINE])
  // The "no peers yet" notice comes after 5 s with --no-timeout; by then a 300 ms timeout would have ended the process.
  const deadline = Date.now() + 20_000
  while (!/no peers yet/.test(cli.stderr) && cli.child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(cli.child.exitCode, null, cli.stderr)
  const r = await cli.stop('SIGINT')
  assert.equal(r.code, 1)
  assert.match(r.stderr, /interrupted before the download was complete/)
})
