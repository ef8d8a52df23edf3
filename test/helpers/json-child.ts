/**
 * A child process whose stdout is JSON lines, read one at a time, and ended with the test: stdin
 * closes first so that a serving child exits by itself, then SIGKILL.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { TestContext } from 'node:test'

const STDERR_TAIL = 4000
const EXIT_GRACE_MS = 5000

export interface JsonChild {
  /** The next JSON line on stdout; rejects naming `what` if the child exits first or `ms` passes. */
  next<T>(what: string, ms: number): Promise<T>
  /** Resolves once the child has exited by itself. */
  readonly exited: Promise<void>
  /** What the child wrote on stderr lately, for failure messages. */
  stderr(): string
  /** Writes one line to the child's stdin. */
  send(line: string): void
}

export interface JsonChildOptions {
  /** Runs the child inside this network namespace (`ip netns exec`). */
  netns?: string
  env?: NodeJS.ProcessEnv
}

/** Starts `command args`, named `label` in failure messages; it is ended when the test ends. */
export function startJsonChild (t: TestContext, label: string, command: string, args: readonly string[], opts: JsonChildOptions = {}): JsonChild {
  const argv = opts.netns !== undefined ? ['netns', 'exec', opts.netns, command, ...args] : [...args]
  const child = spawn(opts.netns !== undefined ? 'ip' : command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
  let code: number | null = null
  const exited = new Promise<void>((done) => child.once('close', (c) => { code = c; done() }))
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject))
  spawnError.catch(() => undefined)
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()

  t.after(async () => {
    child.stdin.end()
    const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    await exited
    clearTimeout(kill)
  })

  return {
    exited,
    stderr: () => stderr,
    send: (line) => { child.stdin.write(line + '\n') },
    async next<T>(what: string, ms: number): Promise<T> {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${label}: no ${what} within ${ms} ms; its stderr:\n${stderr}`)), ms)
      })
      try {
        const line = await Promise.race([lines.next(), timeout, spawnError])
        if (line.done === true) {
          await exited
          throw new Error(`${label} exited (code ${code}) before ${what}; its stderr:\n${stderr}`)
        }
        return JSON.parse(line.value) as T
      } finally {
        clearTimeout(timer)
      }
    }
  }
}
