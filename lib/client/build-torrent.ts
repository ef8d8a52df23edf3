import fs from 'node:fs/promises'
import path from 'node:path'
import { choosePieceLength, layoutFiles, createMetainfo, type FileInput } from '../metainfo/create.js'
import type { Metainfo, MetainfoVersion } from '../metainfo/types.js'
import { FileMerkleHasher } from '../metainfo/merkle.js'
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
/** What seed() creates unless told otherwise (bench/README.md, "v1, v2 and hybrid creation"). */
export const DEFAULT_SEED_VERSION: MetainfoVersion = 'hybrid'

export interface BuildOptions {
  /** BEP47 pad files (`seed({ pad })`); v2 and hybrid torrents always have them. */
  pad?: boolean
  padToPieces?: boolean
  /** Default DEFAULT_SEED_VERSION, what seed() makes. */
  version?: MetainfoVersion
  onProgress?: (hashedBytes: number, totalBytes: number) => void
}

export async function buildMetainfo (source: TreeSource, factory: StorageFactory, opts: BuildOptions = {}): Promise<Metainfo> {
  const version = opts.version ?? DEFAULT_SEED_VERSION
  const total = source.files.reduce((sum, f) => sum + f.length, 0)
  const pieceLength = choosePieceLength(total)
  const v2 = version !== 1
  const files = layoutFiles(source.files, pieceLength, { padToPieces: v2 || opts.padToPieces === true || opts.pad === true, treeOrder: v2 })
  const length = files.reduce((sum, f) => sum + f.length, 0)
  const storage = new TorrentStorage({
    layout: { pieceLength, length, files }, name: source.name, multiFile: source.multiFile, pieceHashes: null, factory
  })
  try {
    const onProgress = opts.onProgress
    const hashers = new Map<number, FileMerkleHasher>()
    const onFileData = v2
      ? (file: number, data: Buffer) => {
          let hasher = hashers.get(file)
          if (hasher === undefined) hashers.set(file, hasher = new FileMerkleHasher())
          hasher.update(data)
        }
      : undefined
    const pieceHashes = await storage.hashAll(onProgress === undefined ? undefined : (hashed) => onProgress(hashed, length), {
      ...(onFileData !== undefined ? { onFileData } : {}), sha1: version !== 2
    })
    const pieceLayers = new Map<string, Buffer>()
    for (const [i, hasher] of hashers) {
      const { root, pieceLayer } = hasher.digest(pieceLength)
      if (root === undefined) continue
      files[i]!.root = root
      if (pieceLayer.length > 0) pieceLayers.set(root.toString('hex'), pieceLayer)
    }
    return createMetainfo({ name: source.name, files, pieceLength, pieceHashes, multiFile: source.multiFile, version, pieceLayers })
  } finally {
    await storage.close()
  }
}
