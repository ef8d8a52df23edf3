import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import type { TestContext } from 'node:test'

/** The SHA-1 of each `pieceLength` bytes of `data` (the last piece may be shorter), concatenated:
 *  a torrent's piece hashes, computed independently of lib/storage/hash.ts. */
export function pieceHashes (data: Uint8Array, pieceLength: number): Buffer {
  const parts: Buffer[] = []
  for (let at = 0; at < data.length; at += pieceLength) parts.push(createHash('sha1').update(data.subarray(at, at + pieceLength)).digest())
  return Buffer.concat(parts)
}

/** A fresh folder under the OS temp dir, removed when the test ends. */
export async function tmpDir (t: TestContext, prefix = 'tl-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix))
  t.after(() => fs.rm(dir, { recursive: true, force: true }))
  return dir
}

/** `size` bytes that differ in every MiB (a random MiB stamped with its index), written fast. */
export async function writeRandomFile (file: string, size: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const block = randomBytes(Math.min(size, 1 << 20))
  const handle = await fs.open(file, 'w')
  try {
    for (let pos = 0, i = 0; pos < size; pos += block.length, i++) {
      block.writeUInt32BE(i, 0)
      await handle.write(block, 0, Math.min(block.length, size - pos), pos)
    }
  } finally {
    await handle.close()
  }
}

/** Resolves with the event's arguments, or rejects after `ms` naming what did not happen. */
export function once<T extends unknown[] = unknown[]> (emitter: EventEmitter, event: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent)
      reject(new Error(`no '${event}' event within ${ms} ms`))
    }, ms)
    function onEvent (...args: unknown[]): void {
      clearTimeout(timer)
      resolve(args as T)
    }
    emitter.once(event, onEvent)
  })
}

/** Polls `check` every 20 ms until it is true, failing after `ms`. */
export async function until (check: () => boolean, ms = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The `.git` attack of issue 17: under `dir`, `src/.git` (a torrent's source, whose config plants
 *  a command) and `checkout/.git/config` (the user's, which a download must leave byte for byte). */
export async function gitCheckoutAttack (dir: string): Promise<{ src: string, checkout: string, planted: string, config: string }> {
  const src = path.join(dir, 'src', '.git')
  const planted = '[core]\n\tfsmonitor = "touch pwned"\n'
  await fs.mkdir(src, { recursive: true })
  await fs.writeFile(path.join(src, 'config'), planted)
  const checkout = path.join(dir, 'checkout')
  const config = '[core]\n\trepositoryformatversion = 0\n'
  await fs.mkdir(path.join(checkout, '.git'), { recursive: true })
  await fs.writeFile(path.join(checkout, '.git', 'config'), config)
  return { src, checkout, planted, config }
}
