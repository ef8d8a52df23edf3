/** Runs aria2c as a BitTorrent peer on 127.0.0.1 only: no DHT, LPD, PEX or trackers. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import type { TestContext } from 'node:test'

/** Why the aria2 tests cannot run here, or false when they can. */
export function aria2Missing (): string | false {
  const probe = spawnSync('aria2c', ['--version'], { encoding: 'utf8' })
  return probe.status === 0 ? false : 'aria2c is not installed; install it with: apt-get install aria2'
}

export interface Aria2 {
  child: ChildProcess
  /** Resolves with the exit code (null when killed). */
  exited: Promise<number | null>
  output: () => string
}

/**
 * aria2c on `torrentFile`, listening on 127.0.0.1:`port` for the peer the test points at it (aria2
 * has no option to dial a peer of a .torrent: our side dials it). `seed` keeps it seeding the
 * complete file in `dir` for `limitS`; otherwise it downloads into `dir` and exits when done.
 * Every run ends by `limitS` (--stop) and is killed by PID when the test ends.
 */
export function startAria2 (t: TestContext, torrentFile: string, dir: string, port: number, limitS: number, seed = false): Aria2 {
  const args = [
    '--no-conf', '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false', '--enable-peer-exchange=false',
    '--bt-exclude-tracker=*', '--listen-port=' + String(port), '--dir=' + dir, '--file-allocation=none',
    '--summary-interval=0', '--console-log-level=warn', '--stop=' + String(limitS), '--disable-ipv6=true',
    ...(seed ? ['--check-integrity=true', '--seed-ratio=0.0', '--seed-time=' + String(limitS / 60)] : ['--seed-time=0']),
    torrentFile
  ]
  const child = spawn('aria2c', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, 'SIGTERM')
      await exited
    }
  })
  return { child, exited, output: () => out.slice(-4000) }
}
