import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../examples')

/** Runs a built example in its own process; every example must exit 0 and say what it did. */
function run (name: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(examples, `${name}.js`)], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${name} failed (${err.message}):\n${stdout}${stderr}`))
      else resolve(stdout)
    })
  })
}

test('examples/lookup-read opens a seeded folder by magnet and reads it', async () => {
  const out = await run('lookup-read')
  assert.match(out, /files: docs, docs\/notes\.txt, index\.html/)
  assert.match(out, /\/index\.html: <h1>Hello from a folder<\/h1>/)
  assert.match(out, /\/docs\/notes\.txt: 16 bytes, file: true/)
  assert.match(out, /exists \/missing: false/)
  assert.match(out, /readFile \/missing: ENOENT/)
})

test('examples/build-and-seed builds a draft, seeds it, and reads it back', async () => {
  const out = await run('build-and-seed')
  assert.match(out, /magnet: magnet:\?xt=urn:btih:[0-9a-f]{40}/)
  assert.match(out, /same content, same link: true/)
  assert.match(out, /the draft is sealed: url set, one pixel/)
  assert.match(out, /read back: <h1>Hello World!<\/h1>/)
})

test('examples/stream-range streams a byte range, fetching little else', async () => {
  const out = await run('stream-range')
  assert.match(out, /streamed bytes 20000000-20099999: 100000 bytes, identical: true/)
  const fetched = Number(/fetched ([\d.]+)%/.exec(out)?.[1])
  assert.ok(fetched > 0 && fetched < 10, `fetched ${fetched}% for a 100 kB range of 32 MiB`)
})

test('examples/demo (npm run demo) runs', async () => {
  const out = await run('demo')
  assert.match(out, /\/index\.html: <h1>Hello World!<\/h1>/)
  assert.match(out, /100% of the archive verified/)
})

test('examples/founding: the calls the product was specified from run as written', async () => {
  const out = await run('founding', { TRACKERLESS_PORT: '0' })
  assert.match(out, /peer id: something… \(20 bytes\)/)
  assert.match(out, /published magnet:\?xs=urn:btpk:[0-9a-f]{64}/)
  assert.match(out, /\/index\.html: <h1>Hello World!<\/h1>/)
})
