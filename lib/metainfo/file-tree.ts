import { fail } from '../errors.js'
import { asBytes, asDict, getInt, type BencodeDict } from './bencode.js'
import { FROM_TORRENT, validatePath } from './paths.js'
import { HASH_SIZE } from './merkle.js'

/** A file of a BEP52 `file tree`, in tree order (keys bytewise sorted at every level). */
export interface TreeFile {
  segments: string[]
  length: number
  /** `pieces root`: absent for an empty file. */
  root: Buffer | undefined
  attr: string
}

export interface TreeLimits {
  maxFiles: number
}

function bad (message: string): never {
  return fail('EBADTORRENT', `${message}; ${FROM_TORRENT.advice}`)
}

function compareKeys (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function readFile (node: BencodeDict, segments: string[]): TreeFile {
  const where = `file tree entry ${JSON.stringify(segments.join('/'))}`
  const length = getInt(node, 'length', { required: true, where })
  if (length < 0 || !Number.isSafeInteger(length)) bad(`${where} has an invalid length`)
  let root: Buffer | undefined
  if (length > 0) {
    if (!Object.hasOwn(node, 'pieces root')) bad(`${where} has no "pieces root"`)
    root = asBytes(node['pieces root']!, `${where} field "pieces root"`)
    if (root.length !== HASH_SIZE) bad(`${where} has a "pieces root" of ${root.length} bytes, not ${HASH_SIZE}`)
  }
  // v2 has no pad files: a 'p' attribute here would make a real file vanish from the archive.
  const attr = Object.hasOwn(node, 'attr') ? asBytes(node['attr']!, `${where} field "attr"`).toString('latin1').replace(/p/g, '') : ''
  validatePath(segments)
  return { segments, length, root, attr }
}

/**
 * Flattens a BEP52 `file tree` into its files in tree order. A node is a file when it holds the
 * key '' (and nothing else); depth is bounded by the bencode decoder, file count by `maxFiles`,
 * and every path passes the v1 path rules. Iterative, so a deep tree cannot exhaust the stack.
 */
export function readFileTree (tree: BencodeDict, limits: TreeLimits): TreeFile[] {
  const files: TreeFile[] = []
  const stack: Array<{ node: BencodeDict, segments: string[] }> = [{ node: tree, segments: [] }]
  while (stack.length > 0) {
    const { node, segments } = stack.pop()!
    const keys = Object.keys(node).sort(compareKeys)
    if (Object.hasOwn(node, '')) {
      if (segments.length === 0) bad('the file tree has a file with an empty path')
      if (keys.length !== 1) bad(`${JSON.stringify(segments.join('/'))} is both a file and a folder in the file tree`)
      files.push(readFile(asDict(node['']!, `file tree entry ${JSON.stringify(segments.join('/'))}`), segments))
      if (files.length > limits.maxFiles) bad(`the file tree has more than the ${limits.maxFiles} files supported`)
      continue
    }
    if (keys.length === 0) bad(segments.length === 0 ? 'the file tree is empty' : `folder ${JSON.stringify(segments.join('/'))} of the file tree is empty`)
    // Reverse so that popping visits the keys in sorted order.
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!
      stack.push({ node: asDict(node[key]!, `file tree entry ${JSON.stringify([...segments, key].join('/'))}`), segments: [...segments, key] })
    }
    if (stack.length > limits.maxFiles) bad(`the file tree has more than the ${limits.maxFiles} entries supported`)
  }
  return files
}
