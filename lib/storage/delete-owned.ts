import fs from 'node:fs/promises'
import path from 'node:path'
import { RECORDS, readRecord, type OwnedTorrent } from './ownership.js'
import { checkFolders, lstatOrNull } from './safe-open.js'

/**
 * Deletes what a torrent downloaded into `root`: the files of its own entry (ownership.ts records
 * which one) that the torrent lists, the folders they leave empty, the entry once empty, and the
 * record. Nothing else: a file the user added to the entry stays (and with it its folders), an
 * entry without a record is not ours, and nothing is deleted through a symbolic link (a file below
 * a link is left where it is). Returns the paths deleted.
 */
export async function deleteOwned (root: string, torrent: OwnedTorrent): Promise<string[]> {
  const records = path.join(root, RECORDS)
  const name = await readRecord(records, torrent.infoHash)
  // A record is a file anyone may edit: only a plain name in `root` is taken from it.
  if (name === null || name === '' || name === '.' || name === '..' || name.startsWith('.') || name !== path.basename(name)) return []
  const entry = path.join(root, name)
  const deleted: string[] = []
  const st = await lstatOrNull(entry)
  if (!torrent.multiFile) {
    if (st?.isFile() === true && await unlinkBelow(root, entry)) deleted.push(entry)
  } else if (st?.isDirectory() === true) {
    const folders = new Set<string>()
    for (const file of torrent.files) {
      if (file.pad === true) continue
      const parts = file.path.split('/')
      if (parts.some((p) => p === '' || p === '.' || p === '..')) continue
      const at = path.join(entry, ...parts)
      for (let dir = path.dirname(at); dir !== entry; dir = path.dirname(dir)) folders.add(dir)
      if (await unlinkBelow(root, at)) deleted.push(at)
    }
    // Deepest first, so that a folder is empty by the time it comes.
    for (const dir of [...folders].sort((a, b) => b.length - a.length)) {
      if (await rmdirBelow(root, dir)) deleted.push(dir)
    }
    if (await rmdirBelow(root, entry)) deleted.push(entry)
  }
  await fs.rm(path.join(records, `${torrent.infoHash}.json`), { force: true })
  return deleted
}

/** Unlinks the regular file `at` when no folder between `root` and it is a link. */
async function unlinkBelow (root: string, at: string): Promise<boolean> {
  if (!await realFolders(root, path.dirname(at))) return false
  if ((await lstatOrNull(at))?.isFile() !== true) return false
  return await quietly(fs.unlink(at))
}

/** Removes the folder `dir` when it is empty and nothing from `root` down to it is a link. */
async function rmdirBelow (root: string, dir: string): Promise<boolean> {
  if (!await realFolders(root, dir)) return false
  return await quietly(fs.rmdir(dir))
}

async function realFolders (root: string, dir: string): Promise<boolean> {
  return await quietly(checkFolders(root, dir, false)) && (await lstatOrNull(dir))?.isDirectory() === true
}

/** False when `op` fails (missing, not empty, replaced meanwhile): deleting is best effort. */
async function quietly (op: Promise<unknown>): Promise<boolean> {
  try {
    await op
    return true
  } catch {
    return false
  }
}
