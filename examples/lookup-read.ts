/**
 * SPEC flow 1: open an archive by magnet link and read it like node:fs/promises.
 * One client seeds a folder; a second opens it from the magnet link and a named peer
 * (metadata over BEP9), lists it and reads a file. Nothing leaves 127.0.0.1: no DHT, no LSD.
 *
 *   npm run build && node dist/examples/lookup-read.js
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Torrent } from '../index.js'

const options = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'trackerless-example-'))
const seeder = new Torrent(options)
const reader = new Torrent(options)
await Promise.all([seeder.start(), reader.start()])

try {
  await fs.mkdir(path.join(folder, 'site/docs'), { recursive: true })
  await fs.writeFile(path.join(folder, 'site/index.html'), '<h1>Hello from a folder</h1>')
  await fs.writeFile(path.join(folder, 'site/docs/notes.txt'), 'seeded from disk')
  const magnet = await seeder.seed(path.join(folder, 'site'))
  console.log(`seeding ${magnet}`)

  const archive = await reader.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  console.log(`files: ${(await archive.readdir('/', { recursive: true })).join(', ')}`)
  console.log(`/index.html: ${await archive.readFile('/index.html', 'utf8')}`)
  const stats = await archive.stat('/docs/notes.txt')
  console.log(`/docs/notes.txt: ${stats.size} bytes, file: ${stats.isFile()}`)
  console.log(`exists /missing: ${await archive.exists('/missing')}`)
  await archive.readFile('/missing').catch((err: Error & { code?: string }) => console.log(`readFile /missing: ${err.code}`))
  await archive.close()
} finally {
  await Promise.all([seeder.stop(), reader.stop()])
  await fs.rm(folder, { recursive: true, force: true })
}
