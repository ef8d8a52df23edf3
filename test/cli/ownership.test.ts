import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Torrent } from '../../index.js'
import { OFFLINE, run } from './child.js'
import { gitCheckoutAttack, tmpDir, writeRandomFile } from '../helpers/fixtures.js'

test('get in a git checkout with the default output folder: .git/config untouched, the archive saved as _git and that path printed', async (t) => {
  const dir = await tmpDir(t)
  const { src, checkout, planted, config } = await gitCheckoutAttack(dir)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(src)

  const r = await run(['get', magnet, '--peer', `127.0.0.1:${seeder.port}`, ...OFFLINE], { cwd: checkout })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout.toString(), `${path.join(checkout, '_git')}\n`)
  assert.equal(await fs.readFile(path.join(checkout, '.git', 'config'), 'utf8'), config)
  assert.equal(await fs.readFile(path.join(checkout, '_git', 'config'), 'utf8'), planted)
})

test('get over a file it did not download: refused naming the file, nothing written; again resumes nothing new; --force verifies and repairs it', async (t) => {
  const dir = await tmpDir(t)
  const src = path.join(dir, 'src', 'data.bin')
  await writeRandomFile(src, 1_000_000)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(src)
  const out = path.join(dir, 'out')
  await fs.mkdir(out)
  await fs.writeFile(path.join(out, 'data.bin'), 'notes the user keeps here, longer than nothing')
  const args = ['get', magnet, '--peer', `127.0.0.1:${seeder.port}`, '-o', out, ...OFFLINE]

  const refused = await run(args)
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, new RegExp(`^trackerless: "${path.join(out, 'data.bin').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" already exists and trackerless did not download it there.*--force`, 'm'))
  assert.equal(await fs.readFile(path.join(out, 'data.bin'), 'utf8'), 'notes the user keeps here, longer than nothing')
  const json = await run([...args, '--json'])
  assert.equal(json.code, 1)
  assert.equal((JSON.parse(json.stdout.toString().trim().split('\n').at(-1)!) as { code: string }).code, 'EEXIST')

  const forced = await run([...args, '--force'])
  assert.equal(forced.code, 0, forced.stderr)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(src)))
  // Now it is ours: the same command resumes (here: finds it complete) without --force.
  const again = await run(args)
  assert.equal(again.code, 0, again.stderr)
  assert.equal(again.stdout.toString(), `${path.join(out, 'data.bin')}\n`)
})
