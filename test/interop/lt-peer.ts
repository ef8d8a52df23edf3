/** Runs test/interop/lt_peer.py (a libtorrent peer) as a JSON-lines child process. */
import { spawnSync } from 'node:child_process'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { startJsonChild, type JsonChild, type JsonChildOptions } from '../helpers/json-child.js'
import { STEP_MS } from './fixtures.js'

/** Debian's python, which sees the python3-libtorrent package (a pyenv python may not). */
const PYTHON = '/usr/bin/python3'
/** The compiled file sits in <outDir>/test/interop/; the script stays in the source tree. */
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'interop', 'lt_peer.py')

/** Why the libtorrent tests cannot run here, or false when they can. */
export function libtorrentMissing (): string | false {
  const probe = spawnSync(PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8' })
  if (probe.status === 0) return false
  return `libtorrent is not importable by ${PYTHON} (${(probe.stderr ?? probe.error?.message ?? '').trim().split('\n').pop() ?? ''}); ` +
    'install it with: apt-get install python3-libtorrent'
}

export type LtPeer = JsonChild

/** Starts `lt_peer.py <args>`; it is ended when the test ends. `limitS` bounds every wait inside it. */
export function startLtPeer (t: TestContext, args: readonly string[], limitS: number, opts: Pick<JsonChildOptions, 'netns' | 'env'> = {}): LtPeer {
  return startJsonChild(t, `lt_peer.py ${args[0] ?? ''}`, PYTHON, [SCRIPT, ...args], {
    ...opts,
    env: { ...process.env, ...opts.env, LT_PEER_LIMIT_S: String(limitS), LT_PEER_LOG: '1' }
  })
}

export interface LtSeeding {
  infoHash: string
  magnet: string
  port: number
}

export interface LtSeedOptions extends Pick<JsonChildOptions, 'netns' | 'env'> {
  /** Extra arguments of `create` (piece length, --pad). */
  create?: readonly string[]
  /** Extra arguments of `seed` (--dht, --lsd); the seeder runs in `netns` when given. */
  seed?: readonly string[]
}

/**
 * libtorrent makes a .torrent of `source` (a file or folder inside `src`; the .torrent goes next
 * to `src`) and seeds it from `src`; resolves once it listens.
 */
export async function startLtSeeder (t: TestContext, src: string, source: string, limitS: number, opts: LtSeedOptions = {}): Promise<LtSeeding> {
  const torrentFile = join(dirname(src), `${basename(source)}.torrent`)
  const created = await startLtPeer(t, ['create', source, torrentFile, ...opts.create ?? []], limitS)
    .next<{ infoHash: string, magnet: string }>('torrent', STEP_MS)
  const { port } = await startLtPeer(t, ['seed', torrentFile, src, ...opts.seed ?? []], limitS, { netns: opts.netns, env: opts.env })
    .next<{ port: number }>('listening port', STEP_MS)
  return { ...created, port }
}
