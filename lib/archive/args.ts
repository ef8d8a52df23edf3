import type { ReadStreamOptions, StatOptions } from './types.js'

/** Argument checks as node:fs makes them: synchronous TypeError / RangeError with node's codes,
 *  thrown by the call itself rather than surfacing later as an uncaught exception. */

function nodeError<E extends Error> (error: E, code: string): E & { code: string } {
  return Object.assign(error, { code })
}

export function checkPath (path: unknown): void {
  if (typeof path !== 'string' && !(path instanceof Uint8Array)) {
    throw nodeError(new TypeError(`The "path" argument must be of type string or an instance of Buffer or URL. Received ${received(path)}`), 'ERR_INVALID_ARG_TYPE')
  }
}

export function statOptions (options: StatOptions | undefined): void {
  if (options === undefined || options === null) return
  if (typeof options !== 'object') {
    throw nodeError(new TypeError(`The "options" argument must be of type object. Received ${received(options)}`), 'ERR_INVALID_ARG_TYPE')
  }
  if (options.bigint === true) {
    // An archive's sizes fit a number; BigIntStats would be a second Stats class for nothing.
    throw nodeError(new TypeError('The "options.bigint" option is not supported by an archive; call stat() without it.'), 'ERR_INVALID_ARG_VALUE')
  }
}

/** `start`/`end` of a read stream, checked as node's ReadStream checks them: integers >= 0
 *  (`end` may be Infinity), and start <= end. highWaterMark is left to Readable, as in node. */
export function streamRange (options: ReadStreamOptions): { start: number, end: number } {
  const start = options.start === undefined ? 0 : options.start
  const end = options.end === undefined ? Infinity : options.end
  if (options.start !== undefined) integer('start', start, 0, Number.MAX_SAFE_INTEGER)
  if (end !== Infinity) integer('end', end, 0, Number.MAX_SAFE_INTEGER)
  if (start > end) {
    throw nodeError(new RangeError(`The value of "start" is out of range. It must be <= "end" (here: ${end}). Received ${start}`), 'ERR_OUT_OF_RANGE')
  }
  return { start, end }
}

function integer (name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number') {
    throw nodeError(new TypeError(`The "${name}" argument must be of type number. Received ${received(value)}`), 'ERR_INVALID_ARG_TYPE')
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw nodeError(new RangeError(`The value of "${name}" is out of range. It must be >= ${min} && <= ${max}. Received ${String(value)}`), 'ERR_OUT_OF_RANGE')
  }
}

function received (value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'function') return 'function'
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
  return `type ${typeof value} (${String(value).slice(0, 25)})`
}
