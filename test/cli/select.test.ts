import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Torrent } from '../../index.js'
import { OFFLINE, run } from './child.js'
import { tmpDir } from '../helpers/fixtures.js'

const FILES = ['a.txt', 'docs/b.txt', 'docs/c.txt', 'docs/d.txt']

/** A seeded folder whose files each start a piece (pad), so that no unselected file shares a piece. */
async function seeded (t: TestContext): Promise<{ magnet: string, peer: string, dir: string, src: string }> {
  const dir = await tmpDir(t, 'tl-cli-select-')
  const src = path.join(dir, 'box')
  for (const f of FILES) {
    await fs.mkdir(path.dirname(path.join(src, f)), { recursive: true })
    await fs.writeFile(path.join(src, f), randomBytes(40_000 + FILES.indexOf(f)))
  }
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  t.after(() => seeder.stop())
  await seeder.start()
  const magnet = await seeder.seed(src, { pad: true })
  return { magnet, peer: `127.0.0.1:${seeder.port}`, dir, src }
}

test('ls --index numbers the files as --select takes them; download --only and --select fetch those files alone', async (t) => {
  const s = await seeded(t)
  const ls = await run(['ls', s.magnet, '-r', '--index', '--json', '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.equal(ls.code, 0, ls.stderr)
  const entries = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { path: string, type: string, index?: number })
  const index = new Map(entries.filter((e) => e.type === 'file').map((e) => [e.path, e.index]))
  assert.deepEqual([...index.keys()].sort(), FILES.map((f) => `/${f}`))
  assert.ok([...index.values()].every((i) => Number.isInteger(i)), 'every file has its index')
  const human = await run(['ls', s.magnet, '/docs', '--index', '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.match(human.stdout.toString(), new RegExp(`^ +${index.get('/docs/c.txt')!}  c\\.txt$`, 'm'))

  const out = path.join(s.dir, 'out')
  const r = await run(['download', s.magnet, '--only', 'a.txt', '--select', String(index.get('/docs/c.txt')), '-o', out, '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.equal(r.code, 0, r.stderr)
  for (const f of ['a.txt', 'docs/c.txt']) assert.ok((await fs.readFile(path.join(out, 'box', f))).equals(await fs.readFile(path.join(s.src, f))), f)
  for (const f of ['docs/b.txt', 'docs/d.txt']) await assert.rejects(fs.stat(path.join(out, 'box', f)), { code: 'ENOENT' }, `${f} was not selected`)

  const folder = path.join(s.dir, 'folder')
  const r2 = await run(['get', s.magnet, '--only', '/docs/', '-o', folder, '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.equal(r2.code, 0, r2.stderr)
  for (const f of ['docs/b.txt', 'docs/c.txt', 'docs/d.txt']) assert.ok((await fs.stat(path.join(folder, 'box', f))).isFile(), f)
  await assert.rejects(fs.stat(path.join(folder, 'box', 'a.txt')), { code: 'ENOENT' }, 'a folder selects only what is below it')
})

test('a selection that names nothing fails in the flag\'s words with ENOENT; bad indexes are bad usage', async (t) => {
  const s = await seeded(t)
  const r = await run(['download', s.magnet, '--only', 'docs/nothere.txt', '-o', path.join(s.dir, 'x'), '--json', '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.equal(r.code, 1, r.stderr)
  const event = JSON.parse(r.stdout.toString().trim().split('\n').at(-1)!) as { code: string, message: string }
  assert.equal(event.code, 'ENOENT')
  assert.match(event.message, /^--only \/docs\/nothere\.txt: no such file or folder in the archive; .*ls URL -r --index/)
  const r2 = await run(['download', s.magnet, '--select', '99', '-o', path.join(s.dir, 'y'), '--peer', s.peer, ...OFFLINE], { ms: 20_000 })
  assert.equal(r2.code, 1, r2.stderr)
  assert.match(r2.stderr, /--select 99: no such file or folder/)
  for (const bad of ['3-1', 'x', '1,,2', '-1']) {
    const u = await run(['download', s.magnet, '--select', bad, ...OFFLINE])
    assert.equal(u.code, 2, `${bad}: ${u.stderr}`)
    assert.match(u.stderr, /--select.*expected file indexes such as 0,2,4-6/s, bad)
  }
})
