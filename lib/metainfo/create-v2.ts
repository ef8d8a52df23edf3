import type { EncodableValue } from 'bencode'
import { fail } from '../errors.js'
import { filePieceCount, HASH_SIZE, isV2PieceLength, rootFromPieceLayer } from './merkle.js'
import type { FileEntry } from './types.js'

/**
 * Tree order of BEP52: at every folder level, names bytewise. It differs from sorting whole paths
 * ("a/b" comes before "a-c" in a tree, after it as a string), and a hybrid's v1 file list must
 * follow it.
 */
export function compareTreePaths (a: string, b: string): number {
  const x = a.split('/')
  const y = b.split('/')
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const order = Buffer.compare(Buffer.from(x[i]!, 'utf8'), Buffer.from(y[i]!, 'utf8'))
    if (order !== 0) return order
  }
  return x.length - y.length
}

function bad (message: string): never {
  return fail('EBADTORRENT', message)
}

/** The BEP52 `file tree` of the stored files; every non-empty file needs its `root`. */
export function fileTree (files: readonly FileEntry[], multiFile: boolean, name: string, pieceLength: number): { [key: string]: EncodableValue } {
  if (!isV2PieceLength(pieceLength)) bad(`a v2 or hybrid torrent needs a piece length that is a power of two of at least 16 KiB, got ${pieceLength}`)
  const tree: { [key: string]: EncodableValue } = {}
  for (const file of files) {
    if (file.pad) continue
    if (file.length > 0 && file.root?.length !== HASH_SIZE) bad(`${JSON.stringify(file.path)} has no 32-byte merkle root, which a v2 or hybrid torrent needs`)
    const leaf: { [key: string]: EncodableValue } = { length: file.length }
    if (file.length > 0) leaf['pieces root'] = file.root!
    if (file.attr !== '') leaf['attr'] = file.attr
    let node = tree
    for (const segment of multiFile ? file.path.split('/') : [name]) {
      node[segment] ??= {}
      node = node[segment] as { [key: string]: EncodableValue }
    }
    node[''] = leaf
  }
  return tree
}

/** Keeps the piece layers of files of more than one piece, each checked against its file's root. */
export function checkedPieceLayers (files: readonly FileEntry[], pieceLength: number, layers: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const file of files) {
    if (file.pad || file.root === undefined || filePieceCount(file.length, pieceLength) <= 1) continue
    const hex = file.root.toString('hex')
    const layer = layers.get(hex)
    if (layer === undefined) bad(`the piece layer of ${JSON.stringify(file.path)} is missing`)
    if (layer.length !== filePieceCount(file.length, pieceLength) * HASH_SIZE || !rootFromPieceLayer(layer, pieceLength, file.length).equals(file.root)) {
      bad(`the piece layer of ${JSON.stringify(file.path)} does not hash to its root`)
    }
    out.set(hex, layer)
  }
  return out
}

/** Bencodes `piece layers` by hand: its keys are binary roots, which the bencode package cannot
 *  keep as keys. Keys sorted bytewise, as canonical bencode wants. */
export function encodePieceLayers (layers: ReadonlyMap<string, Buffer>): Buffer {
  const keys = [...layers.keys()].map((hex) => Buffer.from(hex, 'hex')).sort(Buffer.compare)
  const parts: Buffer[] = [Buffer.from('d')]
  for (const key of keys) {
    const value = layers.get(key.toString('hex'))!
    parts.push(Buffer.from(`${key.length}:`), key, Buffer.from(`${value.length}:`), value)
  }
  parts.push(Buffer.from('e'))
  return Buffer.concat(parts)
}
