/** An error of the underlying storage (ENOSPC, EACCES, ...), with its own code and the file's path. */
export class StorageError extends Error {
  readonly code: string
  readonly path: string

  constructor (code: string, message: string, path: string, cause: unknown) {
    super(message, { cause })
    this.name = 'StorageError'
    this.code = code
    this.path = path
  }
}

/** `err` of a storage operation `op` on `path`, with a hint for the user. */
export function storageError (err: Error, op: string, path: string, offset?: number, length?: number): StorageError {
  const raw = (err as { code?: unknown }).code
  const code = typeof raw === 'string' ? raw : 'EIO'
  const where = offset === undefined || length === undefined ? '' : ` (bytes ${offset}-${offset + length})`
  const hint = HINTS[code] ?? 'Check that the storage is reachable, then try again.'
  return new StorageError(code, `Could not ${op} "${path}"${where}: ${err.message}. ${hint}`, path, err)
}

const HINTS: Record<string, string> = {
  ENOSPC: 'Free some disk space, then try again.',
  EDQUOT: 'The disk quota is exhausted; free some space, then try again.',
  EACCES: 'Check the permissions of the file and of its folder.',
  EPERM: 'Check the permissions of the file and of its folder.',
  EROFS: 'The file system is read-only; choose another download folder.',
  ENOENT: 'The file is missing; scan the torrent to find the pieces to fetch again.',
  EPARTIALREAD: 'The file is shorter than the torrent says; scan the torrent to find the pieces to fetch again.',
  EMFILE: 'Too many open files; lower maxOpenFiles or raise the limit (ulimit -n).',
  EISDIR: 'A folder stands where the file should be; move it away.',
  ENOTDIR: 'A file stands where a folder of the torrent should be; move it away.',
  ENOMEM: 'Download it to a folder instead (the storage option; CLI: trackerless get -o DIR), close other archives, or raise memoryLimit (CLI: --memory-limit).'
}
