/**
 * Opening files of a download without following symbolic links: a link already in the download
 * folder (or planted in it between runs) would otherwise redirect our writes to any file the user
 * can write. The storage root itself is the user's choice and may be reached through a link they
 * made; only what lies below it is checked.
 */
import fs from 'node:fs'
import path from 'node:path'
import { TrackerlessError } from '../errors.js'

const { O_NOFOLLOW, O_CREAT } = fs.constants

/** The error for a symbolic link met below the storage root: never followed. */
export function symlinkError (at: string): TrackerlessError {
  return new TrackerlessError('ELOOP', `"${at}" is a symbolic link; trackerless never writes or reads a download through a link it did not make. Move the link away, or choose another output folder`)
}

/** The error for a file standing where a folder of the download should be. */
export function notFolderError (at: string): TrackerlessError {
  return new TrackerlessError('ENOTDIR', `"${at}" is not a folder, but the download needs one there. Move it away, or choose another output folder`)
}

export async function lstatOrNull (at: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.lstat(at)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
}

/**
 * Checks that every folder from below `root` down to `dir` is a real folder, not a link, creating
 * the missing ones when `create`. Without `create` a missing folder ends the walk: the open that
 * follows reports ENOENT.
 */
export async function checkFolders (root: string, dir: string, create: boolean): Promise<void> {
  const rel = path.relative(root, dir)
  if (rel === '') return
  let at = root
  for (const part of rel.split(path.sep)) {
    at = path.join(at, part)
    let st = await lstatOrNull(at)
    if (st === null) {
      if (!create) return
      try {
        await fs.promises.mkdir(at)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      st = await fs.promises.lstat(at)
    }
    if (st.isSymbolicLink()) throw symlinkError(at)
    if (!st.isDirectory()) throw notFolderError(at)
  }
}

/** Opens `file` (below `root`) with `flags`, never through a link; with `create`, missing folders
 *  and the file are created. */
export async function openBelow (root: string, file: string, flags: number, create: boolean): Promise<number> {
  await checkFolders(root, path.dirname(file), create)
  return await new Promise<number>((resolve, reject) => {
    fs.open(file, flags | O_NOFOLLOW | (create ? O_CREAT : 0), 0o666, (err, fd) => {
      if (err === null) resolve(fd)
      else reject(err.code === 'ELOOP' ? symlinkError(file) : err)
    })
  })
}
