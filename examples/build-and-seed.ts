/**
 * SPEC flow 2: build an archive in memory and seed it. The same files give the same magnet link
 * in any client, every time. The seeded draft is sealed: it now has a url and reads like an
 * archive from lookup(); closing it stops seeding. Nothing leaves 127.0.0.1.
 *
 *   npm run build && node dist/examples/build-and-seed.js
 */
import { Torrent, Archive } from '../index.js'

const options = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const seeder = new Torrent(options)
const reader = new Torrent(options)
await Promise.all([seeder.start(), reader.start()])

async function build (): Promise<Archive> {
  const draft = new Archive()
  await draft.writeFile('/index.html', '<h1>Hello World!</h1>')
  await draft.mkdir('/img')
  await draft.writeFile('/img/pixel.txt', 'one pixel')
  return draft
}

try {
  const draft = await build()
  const magnet = await seeder.seed(draft)
  console.log(`magnet: ${magnet}`)
  console.log(`same content, same link: ${magnet === await reader.seed(await build())}`)
  console.log(`the draft is sealed: url ${draft.url === magnet ? 'set' : 'missing'}, ${await draft.readFile('/img/pixel.txt', 'utf8')}`)

  const archive = await reader.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  console.log(`read back: ${await archive.readFile('/index.html', 'utf8')}`)
  await draft.close()
  console.log('closed the draft: the seeder stopped seeding it')
} finally {
  await Promise.all([seeder.stop(), reader.stop()])
}
