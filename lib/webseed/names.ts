/**
 * The torrent's own names, as a web server stores the files: Metainfo carries portable names
 * (portable.ts may rename a file that Windows could not hold), but a mirror serves the original.
 */
import type { Metainfo } from '../metainfo/types.js'
import { decodeBounded, isDict, type BencodeDict, type BencodeValue } from '../metainfo/bencode.js'

export interface TorrentNames {
  name: string
  /** Path segments of each file, by index in `meta.files` (empty for a single-file torrent). */
  paths: string[][]
}

function text (dict: BencodeDict, key: string): string | null {
  const value = dict[`${key}.utf-8`] ?? dict[key]
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : null
}

function segments (value: BencodeValue | undefined): string[] | null {
  if (!Array.isArray(value)) return null
  const out: string[] = []
  for (const s of value) {
    if (!(s instanceof Uint8Array)) return null
    out.push(Buffer.from(s).toString('utf8'))
  }
  return out
}

/** Reads the names from `meta.info` (already validated by parseInfo); falls back to Metainfo's. */
export function torrentNames (meta: Metainfo): TorrentNames {
  const fallback = { name: meta.name, paths: meta.files.map((f) => meta.multiFile ? f.path.split('/') : []) }
  const info = decodeBounded(meta.info, { maxBytes: meta.info.length, maxDepth: 64, code: 'EBADTORRENT' })
  if (!isDict(info)) return fallback
  const name = text(info, 'name') ?? meta.name
  if (!meta.multiFile) return { name, paths: [[]] }
  const files = info['files']
  if (!Array.isArray(files) || files.length !== meta.files.length) return fallback
  const paths = files.map((file, i) => {
    if (!isDict(file)) return fallback.paths[i]!
    return segments(file['path.utf-8']) ?? segments(file['path']) ?? fallback.paths[i]!
  })
  return { name, paths }
}
