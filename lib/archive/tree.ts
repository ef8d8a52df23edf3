import { TrackerlessError } from '../errors.js'

export interface FileNode { type: 'file', name: string, length: number, offset: number }
export interface DirNode { type: 'dir', name: string, children: Map<string, Node> }
export type Node = FileNode | DirNode

/** Splits an archive path ('/a/b', 'a/b', '/') into segments; '.' and '..' never climb out of the root. */
export function segmentsOf (path: string): string[] {
  const out: string[] = []
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue
    if (s === '..') out.pop()
    else out.push(s)
  }
  return out
}

/** The folders and files of an archive, built once from its file list; pad files are left out. */
export class FileTree {
  readonly root: DirNode = { type: 'dir', name: '', children: new Map() }

  addFile (path: string, length: number, offset: number): void {
    const segments = segmentsOf(path)
    const name = segments.pop()
    if (name === undefined) throw new TrackerlessError('EISDIR', 'the archive root is a folder, not a file')
    const dir = this.mkdirp(segments)
    const existing = dir.children.get(name)
    if (existing?.type === 'dir') throw new TrackerlessError('EISDIR', `"${path}" is a folder; pick another file name`)
    dir.children.set(name, { type: 'file', name, length, offset })
  }

  mkdirp (segments: string[]): DirNode {
    let dir = this.root
    for (const s of segments) {
      const next = dir.children.get(s)
      if (next?.type === 'file') throw new TrackerlessError('ENOTDIR', `"${segments.join('/')}" passes through the file "${s}"`)
      if (next === undefined) {
        const made: DirNode = { type: 'dir', name: s, children: new Map() }
        dir.children.set(s, made)
        dir = made
      } else {
        dir = next
      }
    }
    return dir
  }

  /** The node at `path`, or ENOENT / ENOTDIR the way node:fs words them. */
  get (path: string, syscall: string): Node {
    let node: Node = this.root
    for (const s of segmentsOf(path)) {
      if (node.type !== 'dir') throw fsError('ENOTDIR', 'not a directory', syscall, path)
      const next: Node | undefined = node.children.get(s)
      if (next === undefined) throw fsError('ENOENT', 'no such file or directory', syscall, path)
      node = next
    }
    return node
  }

  file (path: string, syscall: string): FileNode {
    const node = this.get(path, syscall)
    if (node.type === 'dir') throw fsError('EISDIR', 'illegal operation on a directory', syscall, path)
    return node
  }

  dir (path: string, syscall: string): DirNode {
    const node = this.get(path, syscall)
    if (node.type !== 'dir') throw fsError('ENOTDIR', 'not a directory', syscall, path)
    return node
  }
}

/** node:fs-shaped errors ("ENOENT: no such file or directory, open '/x'") with our error class. */
export function fsError (code: 'ENOENT' | 'ENOTDIR' | 'EISDIR', text: string, syscall: string, path: string): TrackerlessError {
  return Object.assign(new TrackerlessError(code, `${code}: ${text}, ${syscall} '${path}'`), { syscall, path })
}
