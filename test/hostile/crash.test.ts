import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent } from '../../index.js'
import { choosePieceLength } from '../../lib/metainfo/create.js'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'

// The full run: TL_CRASH_MIB=256 TL_CRASH_KILLS=20. TL_CRASH_SEED replays a failure.
const MIB = Number(process.env.TL_CRASH_MIB ?? 64)
const KILLS = Number(process.env.TL_CRASH_KILLS ?? 8)
const SEED = Number(process.env.TL_CRASH_SEED ?? Date.now() % 2 ** 31)
const child = fileURLToPath(new URL('../helpers/download-child.js', import.meta.url))

/** Deterministic from SEED, so that a failure can be replayed. */
function random (seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

interface RunResult {
  /** Share of pieces the resume scan found on disk. */
  ready: number
  /** Pieces verified and stored in this run, in order. */
  pieces: number[]
  killed: boolean
}

/** Runs the downloader; kills it with SIGKILL once it reports `killAfter` new pieces (0: right after the resume scan). */
function runChild (args: string[], killAfter: number | null): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, ...args], { env: { ...process.env, TL_CHILD_EVENTS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] })
    const result: RunResult = { ready: -1, pieces: [], killed: false }
    const kill = (): void => { if (!result.killed) { result.killed = true; proc.kill('SIGKILL') } }
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as { ready?: number, piece?: number }
      if (event.ready !== undefined) {
        result.ready = event.ready
        if (killAfter === 0) kill()
      }
      if (event.piece !== undefined) {
        result.pieces.push(event.piece)
        if (killAfter !== null && result.pieces.length >= killAfter) kill()
      }
    })
    proc.on('error', reject)
    proc.on('close', (code, signal) => {
      if (result.killed ? signal === 'SIGKILL' || code === 0 : code === 0) resolve(result)
      else reject(new Error(`the downloader exited with ${code ?? signal}`))
    })
  })
}

test(`a download SIGKILLed ${KILLS} times at random points resumes to identical bytes and never fetches a verified piece again (${MIB} MiB, seed ${SEED})`, async (t) => {
  const dir = await tmpDir(t)
  const size = MIB * 1024 * 1024 + 12_345
  const source = path.join(dir, 'src', 'data.bin')
  await writeRandomFile(source, size)
  const seeder = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' })
  await seeder.start()
  t.after(() => seeder.stop())
  const magnet = await seeder.seed(source)
  const pieceCount = Math.ceil(size / choosePieceLength(size))
  const args = [magnet, `127.0.0.1:${seeder.port}`, path.join(dir, 'out')]
  const next = random(SEED)

  /** Pieces some run reported verified and stored, before it was killed or finished. */
  const verified = new Set<number>()
  for (let run = 0; run <= KILLS; run++) {
    const last = run === KILLS
    const left = pieceCount - verified.size
    // Kill points spread over the download: some right after the scan, most part-way.
    const killAfter = last ? null : Math.floor(next() * 2 * left / (KILLS - run + 1))
    const result = await runChild(args, killAfter)
    assert.ok(Math.round(result.ready * pieceCount) >= verified.size,
      `run ${run} found ${result.ready * pieceCount} pieces on disk, but ${verified.size} had been verified before (seed ${SEED})`)
    for (const piece of result.pieces) {
      assert.ok(!verified.has(piece), `run ${run} fetched piece ${piece} again, though it had been verified before (seed ${SEED})`)
      verified.add(piece)
    }
    if (!result.killed) {
      // Pieces stored just before a kill, too late to be reported, were found by this scan.
      assert.equal(Math.round(result.ready * pieceCount) + result.pieces.length, pieceCount, `the last run fetched pieces it had (seed ${SEED})`)
      break
    }
  }
  const [want, got] = await Promise.all([fs.readFile(source), fs.readFile(path.join(dir, 'out', 'data.bin'))])
  assert.ok(got.equals(want), `the resumed file differs from the source (seed ${SEED})`)
})
