/**
 * What downloading costs as v1, hybrid and v2-only: one seeder per version in this process (the
 * same file, `seed(file, { version })`), each downloaded over loopback by a fresh trackerless
 * process, versions alternated round by round. v1 and hybrid pieces are checked by SHA-1, v2-only
 * pieces by SHA-256 merkle against the piece layers; the downloader's own CPU is what differs.
 *
 *   node dist/bench/hash-download.js                # 1024 MiB, 3 rounds
 *   BENCH_MB=512 BENCH_ROUNDS=5 node dist/bench/hash-download.js
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Torrent } from '../index.js'
import { writeData } from './data.js'
import { ownCpuSeconds, ownPeakRssBytes } from './proc.js'

const MiB = 1024 * 1024
const VERSIONS = [1, 'hybrid', 2] as const
type Version = typeof VERSIONS[number]

interface Result { seconds: number, cpuSeconds: number, peakRssBytes: number }

const LOCAL = { dht: false, lsd: false, pex: false, natTraversal: false, host: '127.0.0.1' } as const

async function downloader (torrentFile: string, out: string, peer: string): Promise<void> {
  const client = new Torrent({ ...LOCAL, storage: out })
  await client.start()
  const cpu = ownCpuSeconds()
  const started = performance.now()
  const archive = await client.lookup(await fs.readFile(torrentFile), { download: 'all', peers: [peer] })
  if (archive.progress < 1) await new Promise<void>((resolve) => archive.once('done', () => resolve()))
  const result: Result = { seconds: (performance.now() - started) / 1000, cpuSeconds: ownCpuSeconds() - cpu, peakRssBytes: ownPeakRssBytes() }
  await client.stop()
  console.log(JSON.stringify(result))
}

function runDownloader (torrentFile: string, out: string, peer: string, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', torrentFile, out, peer], { stdio: ['ignore', 'pipe', 'inherit'] })
    let text = ''
    child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(JSON.parse(text.trim()) as Result)
      else reject(new Error(`downloader exited with ${code ?? 'a signal'} (timeout ${timeoutMs / 1000} s)`))
    })
  })
}

async function main (): Promise<void> {
  const megabytes = Number(process.env.BENCH_MB ?? '1024')
  const rounds = Number(process.env.BENCH_ROUNDS ?? '3')
  const timeoutMs = Number(process.env.BENCH_TIMEOUT_S ?? '300') * 1000
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-hash-download-'))
  const seeders: Torrent[] = []
  try {
    console.log(`${megabytes} MiB, ${rounds} rounds; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}`)
    const file = path.join(dir, 'data.bin')
    await writeData(file, megabytes)
    const seeds = new Map<Version, { torrentFile: string, peer: string, hashSeconds: number }>()
    for (const version of VERSIONS) {
      const seeder = new Torrent(LOCAL)
      seeders.push(seeder)
      await seeder.start()
      const started = performance.now()
      const magnet = await seeder.seed(file, { version })
      const torrentFile = path.join(dir, `v${version}.torrent`)
      await fs.writeFile(torrentFile, seeder.torrentFile(magnet)!)
      seeds.set(version, { torrentFile, peer: `127.0.0.1:${seeder.port}`, hashSeconds: (performance.now() - started) / 1000 })
    }
    console.log('version  round  seconds  MiB/s  CPU-s/GiB  peak RSS MiB  load1')
    const rows = new Map<Version, Result[]>(VERSIONS.map((v) => [v, []]))
    for (let round = 0; round < rounds; round++) {
      for (const version of round % 2 === 0 ? VERSIONS : [...VERSIONS].reverse()) {
        const out = path.join(dir, 'out')
        await fs.rm(out, { recursive: true, force: true })
        const { torrentFile, peer } = seeds.get(version)!
        const load = os.loadavg()[0]!.toFixed(2)
        const r = await runDownloader(torrentFile, out, peer, timeoutMs)
        rows.get(version)!.push(r)
        console.log(`${String(version).padEnd(7)}  ${String(round).padStart(5)}  ${r.seconds.toFixed(2).padStart(7)}  ${(megabytes / r.seconds).toFixed(0).padStart(5)}  ${(r.cpuSeconds * 1024 / megabytes).toFixed(2).padStart(9)}  ${(r.peakRssBytes / MiB).toFixed(0).padStart(12)}  ${load}`)
      }
    }
    for (const version of VERSIONS) {
      const cpu = rows.get(version)!.map((r) => r.cpuSeconds * 1024 / megabytes).sort((a, b) => a - b)
      console.log(`${version}: seeding (hashing) ${seeds.get(version)!.hashSeconds.toFixed(2)} s; median downloader ${cpu[cpu.length >> 1]!.toFixed(2)} CPU-s/GiB`)
    }
  } finally {
    await Promise.all(seeders.map((s) => s.stop()))
    await fs.rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === 'child') {
  const [torrentFile, out, peer] = process.argv.slice(3)
  downloader(torrentFile!, out!, peer!).catch((err: unknown) => { console.error(err); process.exit(1) })
} else {
  main().catch((err: unknown) => { console.error(err); process.exit(1) })
}
