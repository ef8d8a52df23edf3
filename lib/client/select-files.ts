import type { Swarm } from '../swarm/swarm.js'
import type { FileSpec } from '../swarm/selection.js'
import { fail } from '../errors.js'

/**
 * lookup()'s `files`, or else a magnet's so=: the files a newly opened torrent fetches in the
 * background. `files` must be an array of archive paths and file indices (EINVAL otherwise).
 */
export function initialFiles (files: readonly FileSpec[] | undefined, select: readonly number[] | undefined): { files?: readonly FileSpec[] } {
  if (files !== undefined && (!Array.isArray(files) || !files.every((f) => typeof f === 'string' || Number.isInteger(f)))) {
    fail('EINVAL', 'lookup()\'s files option is an array of paths in the archive (\'/docs\', \'/a.txt\') and file indices (0, 1, ...)')
  }
  const chosen = files ?? select
  return chosen !== undefined ? { files: chosen } : {}
}

/**
 * Once the metadata is known: every entry of the user's `files` must name a file or folder
 * (ENOENT otherwise; so= indices past the last file are ignored, as BEP53 links may name more).
 * A torrent opened before by another lookup() adds them to its selection.
 */
export function applyFiles (swarm: Swarm, files: readonly FileSpec[] | undefined, select: readonly number[] | undefined): void {
  const download = swarm.download
  if (download === null) return
  if (files !== undefined) for (const spec of files) download.select(spec, 'normal')
  else for (const index of select ?? []) download.select(index, 'normal', true)
}
