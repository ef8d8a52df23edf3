/** The stable codes of SPEC §4, plus EPROTO (a peer broke the wire protocol), EROFS (a write
 *  to an archive opened for reading), EEXIST (the download's place on disk holds something
 *  trackerless did not put there), ELOOP (a symbolic link where the download goes), EBUSY (we
 *  closed a peer connection to make room for another), EPORTMAP (the router refused to map
 *  our port: reported by the client's 'nat' event, never thrown) and EINVAL (options that cannot
 *  work together, such as `tcp: false` with `utp: false`). */
export type ErrorCode =
  | 'EINVALIDURL'
  | 'EBADTORRENT'
  | 'ETIMEDOUT'
  | 'ENOENT'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ECLOSED'
  | 'EBADSIG'
  | 'ENOTSTARTED'
  | 'EABORTED'
  | 'EPROTO'
  | 'EROFS'
  | 'EEXIST'
  | 'ELOOP'
  | 'EBUSY'
  | 'EPORTMAP'
  | 'EINVAL'
  /** Something valid that this version cannot do yet: downloading a BitTorrent v2-only torrent. */
  | 'EUNSUPPORTED'
  /** An option's value out of its range, as node's error of this code: a negative `downloadLimit`. */
  | 'ERR_INVALID_ARG_VALUE'
  /** Memory storage reached the client's `memoryLimit`. */
  | 'ENOMEM'

export class TrackerlessError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    // EABORTED is also an abort as node and the web report one: code that checks `name` finds it.
    this.name = code === 'EABORTED' ? 'AbortError' : 'TrackerlessError'
    this.code = code
  }
}

export function fail (code: ErrorCode, message: string, cause?: unknown): never {
  throw new TrackerlessError(code, message, cause === undefined ? undefined : { cause })
}
