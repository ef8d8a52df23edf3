/** A node-style callback: an error, or null and the value. */
export type Callback<T> = (err: Error | null, value?: T) => void

/** The promise itself, or, given a callback, nothing: the callback gets the outcome outside the
 *  promise chain, so an exception it throws surfaces as node's own callbacks' would. */
export function settle<T> (promise: Promise<T>, callback: Callback<T> | undefined): Promise<T> | undefined {
  if (callback === undefined) return promise
  promise.then(
    (value) => process.nextTick(callback, null, value),
    (err: Error) => process.nextTick(callback, err)
  )
  return undefined
}

/** Separates an optional options argument from a trailing callback, as node:fs methods accept. */
export function split<X, C extends AnyFunction> (options: X | C | undefined, callback: C | undefined): [Exclude<X, AnyFunction> | undefined, C | undefined] {
  if (typeof options === 'function') return [undefined, options as C]
  return [options as Exclude<X, AnyFunction> | undefined, callback]
}

type AnyFunction = (...args: never[]) => unknown
