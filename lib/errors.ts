/** The stable codes of SPEC §4, plus EPROTO (a peer broke the wire protocol), EROFS (a write
 *  to an archive opened for reading) and EEXIST (a file we will not replace). */
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

export class TrackerlessError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TrackerlessError'
    this.code = code
  }
}

export function fail (code: ErrorCode, message: string, cause?: unknown): never {
  throw new TrackerlessError(code, message, cause === undefined ? undefined : { cause })
}
