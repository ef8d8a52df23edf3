import { createRequire } from 'node:module'
import type mimeTypes from 'mime-types'

/** Loaded at the first lookup, not at import: mime-db's table raised a downloader's peak RSS by
 *  about 14 MiB (bench/README.md), and only a gateway ever asks. */
let mime: typeof mimeTypes | null = null

/** The Content-Type for a file name, by its extension, from the mime-db database (with a charset for
 *  text types); a name it does not know is served as bytes, which `nosniff` keeps browsers from guessing at. */
export function contentTypeOf (name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1)
  // A name with no dot is an extension to mime-types ('html' -> text/html); to us it has none.
  if (!base.includes('.')) return 'application/octet-stream'
  mime ??= createRequire(import.meta.url)('mime-types') as typeof mimeTypes
  return mime.contentType(base) || 'application/octet-stream'
}
