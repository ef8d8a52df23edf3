/**
 * Runs test/interop/lt_peer.py (a libtorrent peer) as a child process whose stdout is JSON lines,
 * and ends it with the test: stdin closes first so that a seeder exits by itself, then SIGKILL.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'

/** Debian's python, which sees the python3-libtorrent package (a pyenv python may not). */
const PYTHON = '/usr/bin/python3'
/** The compiled file sits in <outDir>/test/interop/; the script stays in the source tree. */
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_peer.py')
const STDERR_TAIL = 4000
const EXIT_GRACE_MS = 5000

/** Why the libtorrent tests cannot run here, or false when they can. */
export function libtorrentMissing (): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8' })
  if (probe.status === 0) return false
  return `libtorrent is not importable by ${PYTHON} (${(probe.stderr ?? probe.error?.message ?? '').trim().split('\n').pop() ?? ''}); ` +
    'install it with: apt-get install python3-libtorrent'
}

export interface LtPeer {
  /** The next JSON line on stdout; rejects naming `what` if the peer exits first or `ms` passes. */
  next<T>(what: string, ms: number): Promise<T>
  /** Resolves once the peer has exited by itself. */
  readonly exited: Promise<void>
  /** What the peer wrote on stderr lately, for failure messages. */
  stderr(): string
}

export interface LtPeerOptions {
  /** Runs the peer inside this network namespace (`ip netns exec`), e.g. for LSD. */
  netns?: string
}

/** Starts `lt_peer.py <args>`; it is ended when the test ends. `limitS` bounds every wait inside it. */
export function startLtPeer (t: TestContext, args: readonly string[], limitS: number, opts: LtPeerOptions = {}): LtPeer {
  const command = opts.netns !== undefined ? ['ip', 'netns', 'exec', opts.netns, PYTHON] : [PYTHON]
  const child = spawn(command[0]!, [...command.slice(1), SCRIPT, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LT_PEER_LIMIT_S: String(limitS), LT_PEER_LOG: '1' }
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_TAIL) })
  let code: number | null = null
  const exited = new Promise<void>((done) => child.once('close', (c) => { code = c; done() }))
  const spawnError = new Promise<never>((_resolve, reject) => child.once('error', reject))
  spawnError.catch(() => undefined)
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const describe = (): string => `lt_peer.py ${args[0] ?? ''}`

  t.after(async () => {
    child.stdin.end()
    const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS)
    await exited
    clearTimeout(kill)
  })

  return {
    exited,
    stderr: () => stderr,
    async next<T>(what: string, ms: number): Promise<T> {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${describe()}: no ${what} within ${ms} ms; its stderr:\n${stderr}`)), ms)
      })
      try {
        const line = await Promise.race([lines.next(), timeout, spawnError])
        if (line.done === true) {
          await exited
          throw new Error(`${describe()} exited (code ${code}) before ${what}; its stderr:\n${stderr}`)
        }
        return JSON.parse(line.value) as T
      } finally {
        clearTimeout(timer)
      }
    }
  }
}
