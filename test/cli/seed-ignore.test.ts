import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import fc from 'fast-check'
import { globToRegExp } from '../../lib/cli/ignore.js'
import { tmpDir } from '../helpers/fixtures.js'
import { Cli, OFFLINE, run } from './child.js'

const SITE: Record<string, string> = {
  'index.html': '<h1>hi</h1>',
  'keep/b.txt': 'b',
  'a.log': 'log',
  '.env': 'SECRET=1',
  '.git/config': '[core]',
  '.DS_Store': 'x',
  'Thumbs.db': 'x',
  'keep/.index.html.swp': 'x',
  'keep/notes.txt~': 'x'
}

/** Seeds dir/site with `flags`, and returns the paths the torrent holds and seed's stderr. */
async function seeded (dir: string, flags: string[]): Promise<{ files: string[], stderr: string }> {
  const torrent = path.join(dir, `t${Math.random().toString(36).slice(2)}.torrent`)
  const seeder = new Cli(['seed', 'site', '--torrent-out', torrent, '--port', '0', ...flags, ...OFFLINE], dir)
  try {
    await seeder.line(/^magnet:/)
  } finally {
    await seeder.stop()
  }
  const ls = await run(['ls', torrent, '-r', '--json', '--timeout', '2000', ...OFFLINE])
  assert.equal(ls.code, 0, ls.stderr)
  const files = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { event: string, path?: string, type?: string })
    .filter((e) => e.event === 'entry' && e.type !== 'directory').map((e) => e.path!.replace(/^\//, '')).sort()
  return { files, stderr: seeder.stderr }
}

test('seed leaves hidden files and OS/editor junk out by default and says which; --include-hidden keeps them; --ignore adds globs', async (t) => {
  const dir = await tmpDir(t, 'tl-cli-seed-')
  for (const [p, body] of Object.entries(SITE)) {
    await fs.mkdir(path.dirname(path.join(dir, 'site', p)), { recursive: true })
    await fs.writeFile(path.join(dir, 'site', p), body)
  }
  const plain = await seeded(dir, [])
  assert.deepEqual(plain.files, ['a.log', 'index.html', 'keep/b.txt'])
  assert.match(plain.stderr, /left out 6 .*\.env.*\.git\//)
  const all = await seeded(dir, ['--include-hidden'])
  assert.deepEqual(all.files, Object.keys(SITE).sort())
  const globs = await seeded(dir, ['--ignore', '*.log', '--ignore', 'keep/**'])
  assert.deepEqual(globs.files, ['index.html'])
})

test('--ignore without a glob is bad usage (exit 2)', async () => {
  assert.equal((await run(['seed', 'x', '--ignore', ''])).code, 2)
})

test('globs: a plain name matches only itself at any depth; * never crosses /; ** does', () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9._+()$^{}|-]{1,12}$/)
  fc.assert(fc.property(segment, segment, fc.array(segment, { maxLength: 3 }), (name, other, dirs) => {
    const at = [...dirs, name].join('/')
    assert.ok(globToRegExp(name).test(at))
    assert.equal(globToRegExp(name).test([...dirs, other].join('/')), other === name)
    assert.ok(globToRegExp('*').test(at))
    assert.equal(globToRegExp(`${dirs[0] ?? 'x'}/*`).test(at), dirs.length === 1)
    if (dirs.length > 0) assert.ok(globToRegExp(`${dirs[0]!}/**`).test(at))
  }), { numRuns: 300 })
})
