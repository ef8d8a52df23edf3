/** What the interop tests share: our client on loopback, and folders to move and compare. */
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { TestContext } from 'node:test'
import DHT from 'bittorrent-dht'
import { Torrent, type Archive, type TorrentOptions } from '../../index.js'
import { once, writeRandomFile } from '../helpers/fixtures.js'

/** The longest any one step (metadata, a whole download) may take before a test fails naming it. */
export const STEP_MS = 60_000

/**
 * Our client on 127.0.0.1, stopped when the test ends; no discovery but the DHT through `dht`, and
 * PEX when `options` turns it on; `tcp` and `utp` as `options` say.
 */
export async function localClient (t: TestContext, storage?: string, dht: string[] | false = false, options: Pick<TorrentOptions, 'pex' | 'encryption' | 'tcp' | 'utp'> = {}): Promise<Torrent> {
  const c = new Torrent({ dht, lsd: false, pex: false, host: '127.0.0.1', ...options, ...(storage !== undefined ? { storage } : {}) })
  await c.start()
  t.after(() => c.stop())
  return c
}

/** A DHT node alone on 127.0.0.1 ("host:port"), the bootstrap that both sides of a test join. */
export async function loopbackDht (t: TestContext): Promise<string> {
  const dht = new DHT({ bootstrap: false })
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()))
  t.after(() => new Promise<void>((resolve) => dht.destroy(() => resolve())))
  return `127.0.0.1:${dht.address().port}`
}

export async function downloaded (archive: Archive): Promise<void> {
  if (archive.progress < 1) await once(archive, 'done', STEP_MS)
}

/** A folder that needs pad files when aligned: odd sizes, a nested folder, an empty file. */
export async function writeMultiFile (root: string): Promise<void> {
  await writeRandomFile(path.join(root, 'a.bin'), 300_001)
  await writeRandomFile(path.join(root, 'sub/b.bin'), 1_000_003)
  await fs.writeFile(path.join(root, 'sub/c.txt'), 'a small file between two aligned ones')
  await fs.writeFile(path.join(root, 'empty'), '')
  await writeRandomFile(path.join(root, 'z.bin'), 70_000)
}

/** Every regular file under `root`, as sorted '/'-separated paths relative to it. */
export async function listFiles (root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort()
}

/** `got` holds exactly the files of `want`, byte for byte, apart from those `ignore` names. */
export async function assertSameTree (want: string, got: string, ignore: (file: string) => boolean = () => false): Promise<void> {
  const files = await listFiles(want)
  assert.deepEqual((await listFiles(got)).filter((f) => !ignore(f)), files, 'the downloaded folder has other files than the source')
  for (const file of files) {
    const same = (await fs.readFile(path.join(got, file))).equals(await fs.readFile(path.join(want, file)))
    assert.ok(same, `${file} differs`)
  }
}
