import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Cli, run } from './child.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { tmpDir } from '../helpers/fixtures.js'

test('get <infohash> finds the seeder through a local DHT given with --bootstrap', { timeout: 90_000 }, async (t) => {
  const dir = await tmpDir(t, 'tl-cli-dht-')
  await fs.writeFile(path.join(dir, 'note.txt'), 'found through the DHT\n')
  const dht = await dhtNetwork(4)
  const local = ['--bootstrap', dht.bootstrap, '--no-lsd', '--bind', '127.0.0.1']
  const seeder = new Cli(['seed', 'note.txt', '--json', ...local], dir)
  try {
    const { infoHash } = JSON.parse(await seeder.line(/"event":"seeding"/)) as { infoHash: string }
    const out = path.join(dir, 'out')
    const got = await run(['get', infoHash, '-o', out, '--timeout', '60000', ...local], { ms: 70_000 })
    assert.equal(got.code, 0, got.stderr)
    assert.equal(await fs.readFile(path.join(out, 'note.txt'), 'utf8'), 'found through the DHT\n')
  } finally {
    const end = await seeder.stop('SIGINT')
    await dht.close()
    assert.equal(end.code, 0, end.stderr)
  }
})
