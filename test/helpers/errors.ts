import assert from 'node:assert/strict'
import { TrackerlessError, type ErrorCode } from '../../lib/errors.js'

/** `fn` throws a TrackerlessError with `code`, and a message matching `message` when given. */
export function throwsCode (fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TrackerlessError, `expected a TrackerlessError, got ${String(err)}`)
    assert.equal(err.code, code)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}
