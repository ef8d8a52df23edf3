/**
 * Benchmark peers as child processes whose stdout is JSON lines: started, read line by line with a
 * deadline, and ended. Every child still running is SIGKILLed by killChildren(), which the
 * orchestrators call on exit so that none outlives them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { basename } from 'node:path'
import { createInterface } from 'node:readline'

/** Grace between SIGTERM and SIGKILL for a child that is told to stop. */
export const KILL_GRACE_MS = 3000
/** Bytes of a child's stderr kept for a failure report. */
const STDERR_TAIL = 2048

const children = new Set<ChildProcess>()

/** A running child whose stdout is JSON lines. */
export interface Child {
  readonly process: ChildProcess
  /** The next JSON line on stdout; rejects if the child exits first or the deadline passes. */
  nextLine<T>(deadline: number, what: string): Promise<T>
  /** Writes one line to the child's stdin (only for a child started with `stdin: true`). */
  send(line: string): void
  /** Ends the child's stdin: a peer started with `stdin: true` takes it as the signal to finish. */
  closeStdin(): void
  /**
   * Ends the child: lets it exit by itself for `graceMs`, then SIGTERM, then SIGKILL after another
   * grace period; resolves once it has exited, to the signal that ended it (null: it exited by itself).
   */
  stop(graceMs?: number): Promise<NodeJS.Signals | null>
}

export interface ChildOptions {
  /** Passed to the peer as BENCH_PEER_LIMIT_S, its bound on every wait. */
  readonly timeoutMs: number
  /** A pipe on stdin, for instructions and for ending the peer by closing it; /dev/null otherwise. */
  readonly stdin?: boolean
  /** Variables added to the orchestrator's environment for this child. */
  readonly env?: Readonly<Record<string, string>>
}

export function startChild (command: string, args: readonly string[], options: ChildOptions): Child {
  const child = spawn(command, args, {
    stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, BENCH_PEER_LIMIT_S: String(options.timeoutMs / 1000) }
  })
  children.add(child)
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
  // A child that exits early closes its stdin; writing to it then must not crash the orchestrator.
  child.stdin?.on('error', () => undefined)
  const exited = new Promise<NodeJS.Signals | null>((done) => child.once('close', (_code, signal) => { children.delete(child); done(signal) }))
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject))
  spawnError.catch(() => undefined)
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const describe = (): string => `${basename(args[0] ?? command)} ${args[1] ?? ''}`.trim()

  return {
    process: child,
    async nextLine<T>(deadline: number, what: string): Promise<T> {
      const waitMs = Math.max(0, deadline - Date.now())
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: took longer than ${Number((waitMs / 1000).toFixed(1))} s`)), waitMs)
      })
      try {
        const next = await Promise.race([lines.next(), timeout, spawnError])
        if (next.done === true) {
          await exited
          throw new Error(`${what}: ${describe()} exited (code ${child.exitCode ?? child.signalCode}) before reporting${stderr === '' ? '' : `:\n${stderr.trimEnd()}`}`)
        }
        return JSON.parse(next.value) as T
      } finally {
        clearTimeout(timer)
      }
    },
    send (line: string): void {
      child.stdin?.write(line + '\n')
    },
    closeStdin (): void {
      child.stdin?.end()
    },
    async stop (graceMs = 0): Promise<NodeJS.Signals | null> {
      const term = setTimeout(() => child.kill('SIGTERM'), graceMs)
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs + KILL_GRACE_MS)
      const signal = await exited
      clearTimeout(term)
      clearTimeout(force)
      return signal
    }
  }
}

export function killChildren (): void {
  for (const child of children) child.kill('SIGKILL')
}
