/**
 * An offline run on a local swarm: one client builds and seeds an archive, a second one opens it
 * from the magnet link alone (metadata over BEP9 from the named peer) and reads it. Nothing leaves
 * 127.0.0.1: no DHT, no LSD.
 */
import { randomBytes } from 'node:crypto'
import { Torrent, Archive } from '../index.js'

const options = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const seeder = new Torrent(options)
const reader = new Torrent(options)
await Promise.all([seeder.start(), reader.start()])

try {
  const draft = new Archive()
  await draft.writeFile('/index.html', '<h1>Hello World!</h1>')
  await draft.mkdir('/img')
  await draft.writeFile('/img/noise.bin', randomBytes(8 * 1024 * 1024))
  const magnet = await seeder.seed(draft)
  console.log(`seeding on 127.0.0.1:${seeder.port}\n  ${magnet}`)

  const started = Date.now()
  const archive = await reader.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  console.log(`opened "${archive.name}" (${archive.length} bytes) in ${Date.now() - started} ms`)
  console.log(`  files: ${(await archive.readdir('/', { recursive: true })).join(', ')}`)
  console.log(`  /index.html: ${await archive.readFile('/index.html', 'utf8')}`)
  const noise = await archive.readFile('/img/noise.bin') as Buffer
  console.log(`  /img/noise.bin: ${noise.length} bytes read, ${Math.round(archive.progress * 100)}% of the archive verified, ${Date.now() - started} ms in all`)
} finally {
  await Promise.all([seeder.stop(), reader.stop()])
}
