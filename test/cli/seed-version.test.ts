import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseTorrent } from '../../lib/metainfo/torrent.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import { tmpDir } from '../helpers/fixtures.js'
import { Cli, OFFLINE, run } from './child.js'

test('seed --torrent-version writes a v1, v2 or hybrid torrent (hybrid by default) and a matching magnet', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-version-')
  await fs.mkdir(path.join(dir, 'site'))
  await fs.writeFile(path.join(dir, 'site', 'a.txt'), 'hello')
  await fs.writeFile(path.join(dir, 'site', 'b.txt'), 'world'.repeat(5000))
  for (const [flags, version] of [[[], 'hybrid'], [['--torrent-version', '1'], 1], [['--torrent-version', '2'], 2], [['--torrent-version', 'hybrid'], 'hybrid']] as const) {
    const torrent = path.join(dir, `${String(version)}-${flags.length}.torrent`)
    const seeder = new Cli(['seed', 'site', '--torrent-out', torrent, '--port', '0', ...flags, ...OFFLINE], dir)
    let magnet: string
    try {
      magnet = (await seeder.line(/^magnet:/)).trim()
    } finally {
      await seeder.stop()
    }
    const meta = parseTorrent(await fs.readFile(torrent))
    assert.equal(meta.version, version)
    const link = parseMagnet(magnet)
    assert.equal(link.infoHash?.toString('hex'), version === 2 ? undefined : meta.infoHash.toString('hex'))
    assert.equal(link.infoHashV2?.toString('hex'), version === 1 ? undefined : meta.infoHashV2!.toString('hex'))
  }
  const bad = await run(['seed', 'site', '--torrent-version', '3', ...OFFLINE], { cwd: dir })
  assert.notEqual(bad.code, 0)
  assert.match(bad.stderr.toString(), /--torrent-version.*use 1, 2 or hybrid/)
})
