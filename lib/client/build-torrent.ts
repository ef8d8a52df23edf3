import fs from 'node:fs/promises'
import path from 'node:path'
import { choosePieceLength, layoutFiles, createMetainfo, type FileInput } from '../metainfo/create.js'
import type { Metainfo } from '../metainfo/types.js'
import { TorrentStorage } from '../storage/torrent-storage.js'
import { directoryStorage } from '../storage/factories.js'
import type { StorageFactory } from '../storage/types.js'
import { fail } from '../errors.js'

export interface TreeSource {
  name: string
  multiFile: boolean
  files: FileInput[]
}

/**
 * Lists a file or a folder to seed. Symbolic links are not followed, so a link cannot pull
 * files from outside the folder into the archive.
 */
export async function readTree (root: string, ignore?: (path: string, isDirectory: boolean) => boolean): Promise<TreeSource> {
  const stat = await fs.stat(root).catch((err: NodeJS.ErrnoException) =>
    fail('ENOENT', `cannot seed "${root}": ${err.code === 'ENOENT' ? 'no such file or folder' : err.message}`))
  const name = path.basename(path.resolve(root))
  if (stat.isFile()) return { name, multiFile: false, files: [{ path: name, length: stat.size }] }
  const files: FileInput[] = []
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`
      if (ignore?.(rel, entry.isDirectory()) === true) continue
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), rel)
      else if (entry.isFile()) files.push({ path: rel, length: (await fs.stat(path.join(dir, entry.name))).size })
    }
  }
  await walk(root, '')
  if (files.length === 0) fail('ENOENT', `"${root}" holds no files to seed; add a file and try again`)
  return { name, multiFile: true, files }
}

/** `tree` under another torrent name (a single file's one path is its name). */
export function renamed (tree: TreeSource, name: string): TreeSource {
  return { ...tree, name, files: tree.multiFile ? tree.files : tree.files.map((f) => ({ ...f, path: name })) }
}

/**
 * Reads the files of the seeded path `source` where they are, whatever the torrent is named:
 * torrent paths are `name/...` (or `name` for a single file). Read-only, so files without write
 * permission still open.
 */
export function sourceStorage (source: string, tree: TreeSource): StorageFactory {
  const root = path.resolve(source)
  if (!tree.multiFile) {
    const files = directoryStorage(path.dirname(root), { readOnly: true })
    return (_file, options) => files(path.basename(root), options)
  }
  const files = directoryStorage(root, { readOnly: true })
  return (file, options) => files(file.slice(tree.name.length + 1), options)
}

/**
 * Hashes the files the factory gives and returns the torrent. Deterministic: layoutFiles sorts
 * the files, the piece length follows from the total size, and no date goes into the info.
 */
export async function buildMetainfo (source: TreeSource, factory: StorageFactory, opts: { padToPieces?: boolean, onProgress?: (hashedBytes: number, totalBytes: number) => void, webSeeds?: readonly string[] | undefined } = {}): Promise<Metainfo> {
  const total = source.files.reduce((sum, f) => sum + f.length, 0)
  const pieceLength = choosePieceLength(total)
  const files = layoutFiles(source.files, pieceLength, { padToPieces: opts.padToPieces === true })
  const length = files.reduce((sum, f) => sum + f.length, 0)
  const storage = new TorrentStorage({
    layout: { pieceLength, length, files }, name: source.name, multiFile: source.multiFile, pieceHashes: null, factory
  })
  try {
    const onProgress = opts.onProgress
    const pieceHashes = await storage.hashAll(onProgress === undefined ? undefined : (hashed) => onProgress(hashed, length))
    return createMetainfo({ name: source.name, files, pieceLength, pieceHashes, multiFile: source.multiFile, ...(opts.webSeeds !== undefined ? { webSeeds: opts.webSeeds } : {}) })
  } finally {
    await storage.close()
  }
}
