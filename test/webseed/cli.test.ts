import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import { tmpDir } from '../helpers/fixtures.js'
import { Cli, OFFLINE, run } from '../cli/child.js'

test('seed --web-seed (repeatable) writes url-list into --torrent-out and ws= into the link; a bad URL is refused by flag', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-webseed-')
  await fs.writeFile(path.join(dir, 'f.bin'), 'hello')
  const torrent = path.join(dir, 'f.torrent')
  const urls = ['http://127.0.0.1:9/mirror/', 'https://127.0.0.1:9/other/f.bin']
  const seeder = new Cli(['seed', 'f.bin', '--torrent-out', torrent, '--port', '0', '--web-seed', urls[0]!, '--web-seed', urls[1]!, ...OFFLINE], dir)
  let magnet: string
  try {
    magnet = (await seeder.line(/^magnet:/)).trim()
  } finally {
    await seeder.stop()
  }
  assert.deepEqual(parseMagnet(magnet).webSeeds, urls)
  assert.deepEqual(parseTorrent(await fs.readFile(torrent)).webSeeds, urls)
  const bad = await run(['seed', 'f.bin', '--web-seed', 'ftp://127.0.0.1/x', '--port', '0', ...OFFLINE], { cwd: dir })
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr, /--web-seed.*expected an http: or https: URL/)
})
