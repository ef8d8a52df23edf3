import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built bin, beside this file in the same build folder. */
export const MAIN = fileURLToPath(new URL('../../lib/cli/main.js', import.meta.url))
/** Every test run stays on loopback: no DHT, no LSD. */
export const OFFLINE = ['--no-dht', '--no-lsd', '--bind', '127.0.0.1']

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** A running `trackerless` process with its output collected as it comes. */
export class Cli {
  readonly child: ChildProcess
  readonly stdout: Buffer[] = []
  stderr = ''
  readonly exited: Promise<Finished>

  constructor (args: string[], cwd?: string) {
    this.child = spawn(process.execPath, [MAIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stdout!.on('data', (c: Buffer) => this.stdout.push(c))
    this.child.stderr!.on('data', (c: Buffer) => { this.stderr += c.toString() })
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(this.stdout), stderr: this.stderr }))
    })
  }

  get out (): string {
    return Buffer.concat(this.stdout).toString()
  }

  /** Waits until stdout holds a whole line matching `pattern`, failing after `ms` or if the process ends first. */
  async line (pattern: RegExp, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms
    let ended = false
    void this.exited.then(() => { ended = true })
    while (Date.now() < deadline) {
      const found = this.out.split('\n').slice(0, -1).find((l) => pattern.test(l))
      if (found !== undefined) return found
      if (ended) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    throw new Error(`no line matching ${pattern} (stdout: ${this.out.slice(0, 500)} stderr: ${this.stderr.slice(0, 500)})`)
  }

  /** Sends `signal` and waits for the exit; SIGKILLs after `ms` so a hung process cannot outlive the test. */
  async stop (signal: NodeJS.Signals = 'SIGINT', ms = 15_000): Promise<Finished> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms)
    try {
      return await this.exited
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Runs `trackerless args` to its end (killed after `ms`). */
export async function run (args: string[], opts: { cwd?: string, ms?: number } = {}): Promise<Finished> {
  const cli = new Cli(args, opts.cwd)
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), opts.ms ?? 30_000)
  try {
    return await cli.exited
  } finally {
    clearTimeout(timer)
  }
}
