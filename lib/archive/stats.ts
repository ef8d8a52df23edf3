import type { Node } from './tree.js'

/** The time every archive entry reports: a torrent records no file times, and a fixed value keeps
 *  the stats of the same archive identical on every machine. */
const EPOCH = new Date(0)
const FILE_MODE = 0o100444
const DIR_MODE = 0o40555

/** The type predicates node:fs gives `Stats` and `Dirent`: an archive holds only files and folders. */
class EntryType {
  readonly #dir: boolean

  constructor (node: Node) {
    this.#dir = node.type === 'dir'
  }

  isFile (): boolean { return !this.#dir }
  isDirectory (): boolean { return this.#dir }
  isSymbolicLink (): boolean { return false }
  isBlockDevice (): boolean { return false }
  isCharacterDevice (): boolean { return false }
  isFIFO (): boolean { return false }
  isSocket (): boolean { return false }
}

/**
 * What `archive.stat()` returns, shaped like node:fs `Stats`. Archives are read-only trees with no
 * owners, links or file times, so: `mode` is 0o100444 for files and 0o40555 for folders, every time
 * (`atime`, `mtime`, `ctime`, `birthtime`) is the Unix epoch, `uid`/`gid`/`dev`/`ino`/`rdev` are 0,
 * `nlink` is 1, and `blksize` is the torrent's piece length (the unit the network fetches).
 */
export class Stats extends EntryType {
  readonly dev = 0
  readonly ino = 0
  readonly mode: number
  readonly nlink = 1
  readonly uid = 0
  readonly gid = 0
  readonly rdev = 0
  /** Bytes in the file; 0 for a folder. */
  readonly size: number
  readonly blksize: number
  /** 512-byte blocks, as in fs.Stats. */
  readonly blocks: number
  readonly atimeMs = 0
  readonly mtimeMs = 0
  readonly ctimeMs = 0
  readonly birthtimeMs = 0
  readonly atime = EPOCH
  readonly mtime = EPOCH
  readonly ctime = EPOCH
  readonly birthtime = EPOCH

  /** @internal */
  constructor (node: Node, blksize: number) {
    super(node)
    this.mode = node.type === 'dir' ? DIR_MODE : FILE_MODE
    this.size = node.type === 'dir' ? 0 : node.length
    this.blksize = blksize
    this.blocks = Math.ceil(this.size / 512)
  }
}

/** An entry of `archive.readdir(path, { withFileTypes: true })`, shaped like node:fs `Dirent`. */
export class Dirent extends EntryType {
  /** The entry's own name (with `recursive`, still only the last segment, as in node:fs). */
  readonly name: string
  /** The archive folder holding the entry, starting with '/'. */
  readonly parentPath: string

  /** @internal */
  constructor (node: Node, parentPath: string) {
    super(node)
    this.name = node.name
    this.parentPath = parentPath
  }
}
