import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Torrent, Archive } from '../../index.js'
import { until } from '../helpers/fixtures.js'

function client (): Torrent {
  return new Torrent({ dht: false, lsd: false, pex: true, host: '127.0.0.1' })
}

test('a client that knows only one peer learns the others by PEX and connects to them', async (t) => {
  const seeder = client()
  const others = [client(), client(), client()]
  const newcomer = client()
  const all = [seeder, ...others, newcomer]
  t.after(() => Promise.all(all.map((c) => c.stop())))
  await Promise.all(all.map((c) => c.start()))

  const draft = new Archive()
  await draft.writeFile('/data.bin', randomBytes(100_000))
  const magnet = await seeder.seed(draft)
  const seederAddress = `127.0.0.1:${seeder.port}`
  // Each of the others is told of the seeder only, and connects to it.
  const archives = await Promise.all(others.map((c) => c.lookup(magnet, { peers: [seederAddress], timeout: 10_000 })))
  await until(() => archives.every((a) => a.peers.length >= 1), 10_000, 'the others connected to the seeder')

  const archive = await newcomer.lookup(magnet, { peers: [seederAddress], timeout: 10_000 })
  const expected = others.map((c) => `127.0.0.1:${c.port}`)
  await until(() => expected.every((a) => archive.peers.includes(a)), 20_000, 'the newcomer connected to every peer the seeder knows')
  assert.ok(archive.peers.includes(seederAddress))
  await Promise.all([archive, ...archives].map((a) => a.close()))
})
