import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { tmpDir } from '../helpers/fixtures.js'
import { OFFLINE, run } from './child.js'

const HASH = '56'.repeat(20)

test('keygen over an existing key file: EEXIST (not EROFS), the file untouched, exit 1', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-msg-')
  const key = path.join(dir, 'site.key')
  assert.equal((await run(['keygen', '-o', key])).code, 0)
  const before = await fs.readFile(key, 'utf8')
  const again = await run(['keygen', '-o', key, '--json'])
  assert.equal(again.code, 1)
  const event = JSON.parse(again.stdout.toString()) as { code: string, message: string }
  assert.equal(event.code, 'EEXIST')
  assert.match(event.message, /exists already.*choose another -o/)
  assert.equal(await fs.readFile(key, 'utf8'), before)
})

test('a peer port in use: "port N is in use; pass --port", exit 1, the system code kept for --json', async (t) => {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const port = (server.address() as net.AddressInfo).port
  const r = await run(['ls', HASH, '--timeout', '300', '--port', String(port), ...OFFLINE])
  assert.equal(r.code, 1)
  assert.match(r.stderr, new RegExp(`^trackerless: port ${port} is in use; pass --port`, 'm'))
  const json = await run(['ls', HASH, '--timeout', '300', '--port', String(port), '--json', ...OFFLINE])
  assert.equal((JSON.parse(json.stdout.toString()) as { code: string }).code, 'EADDRINUSE')
})

test('library words become flags: a lookup timeout names --timeout, a DHT-less seed --publish names --no-dht and --bootstrap', async (t) => {
  const ls = await run(['ls', HASH, '--timeout', '300', ...OFFLINE])
  assert.equal(ls.code, 1)
  assert.match(ls.stderr, /no peer sent the metadata within 300 ms.*pass a longer --timeout/)
  assert.doesNotMatch(ls.stderr, /\{ timeout \}/)
  const dir = await tmpDir(t, 'tl-cli-msg-')
  const key = path.join(dir, 'k.key')
  assert.equal((await run(['keygen', '-o', key])).code, 0)
  const publish = await run(['seed', key, '--publish', key, '--port', '0', ...OFFLINE])
  assert.equal(publish.code, 1)
  assert.match(publish.stderr, /\(--no-dht\); drop --no-dht, or pass --bootstrap HOST:PORT/)
  assert.doesNotMatch(publish.stderr, /dht: false/)
})
