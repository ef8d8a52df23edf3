/**
 * How a benchmark peer learns that its orchestrator is done with it: stdin, a pipe, reaches its end
 * (which also happens when the orchestrator dies). Lines on it carry instructions.
 */
import { fstatSync } from 'node:fs'
import { createInterface } from 'node:readline'

/**
 * True when stdin is a pipe (node's 'pipe' stdio is a socket pair, a shell's a FIFO). A terminal
 * or /dev/null stdin (stdio 'ignore') never counts as closed, so such a peer runs until killed.
 */
function stdinIsPipe (): boolean {
  const stats = fstatSync(0)
  return stats.isFIFO() || stats.isSocket()
}

/** Calls `onClosed` once a piped stdin ends; does nothing for any other stdin. */
export function onStdinClosed (onClosed: () => void): void {
  if (!stdinIsPipe()) return
  if (process.stdin.readableEnded) return onClosed()
  process.stdin.once('end', onClosed)
  process.stdin.resume()
}

/** The next line on a piped stdin; rejects when stdin ends first or after `limitMs`. */
export function nextStdinLine (limitMs: number, what: string): Promise<string> {
  if (!stdinIsPipe()) return Promise.reject(new Error(`${what}: stdin is not a pipe`))
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin, terminal: false })
    const settle = (err: Error | null, line?: string): void => {
      clearTimeout(timer)
      lines.off('line', onLine)
      lines.off('close', onClose)
      // Give stdin back, paused, for onStdinClosed to watch.
      lines.close()
      if (err === null) resolve(line ?? '')
      else reject(err)
    }
    const onLine = (line: string): void => settle(null, line)
    const onClose = (): void => settle(new Error(`${what}: stdin closed first`))
    const timer = setTimeout(() => settle(new Error(`${what}: nothing on stdin within ${limitMs / 1000} s`)), limitMs)
    lines.on('line', onLine)
    lines.on('close', onClose)
  })
}
