/**
 * The founding example: the calls the product was specified from, as a new user writes them.
 * A client with an empty DHT bootstrap list (`dht: []`: nothing public is contacted), a string
 * peer id and the random-access-memory class as storage builds an archive, seeds it and publishes
 * it under a key; a second client, bootstrapped from the first's DHT node, opens it by that key.
 * Changed from verbatim: `lsd: false` and `natTraversal: false` (no port mapping on the router), so that nothing leaves this machine; the ports come from TRACKERLESS_PORT (default 1234, as written; the test
 * suite passes 0 so that runs do not collide), and the second client gets the next ports.
 *
 *   npm run build && node dist/examples/founding.js
 */
import ram from 'random-access-memory'
import Torrent from '../index.js'

const port = Number(process.env.TRACKERLESS_PORT ?? 1234)
const next = port === 0 ? 0 : port + 1

const client = new Torrent({ dht: [], dhtPort: port, torrentPort: port, peerId: "something", storage: ram, lsd: false, natTraversal: false })
await client.start()
const reader = new Torrent({ dht: [`127.0.0.1:${client.dhtPort}`], dhtPort: next, torrentPort: next, peerId: 'reader', storage: ram, lsd: false, natTraversal: false })
await reader.start()

try {
  console.log(`peer id: ${client.peerId.subarray(0, 9).toString()}… (${client.peerId.length} bytes)`)
  const archive = new Torrent.Archive()
  await archive.writeFile('/index.html', '<h1>Hello World!</h1>')
  const url = await client.seed(archive)
  console.log(`seeding ${url}`)

  const { publicKey, privateKey } = await Torrent.createKeypair()
  const link = await client.publish(url, publicKey, privateKey)
  console.log(`published ${link}`)

  const opened = await reader.lookup(link, { timeout: 10_000 })
  console.log(`/index.html: ${await opened.readFile('/index.html', 'utf8')}`)
  await opened.close()
} finally {
  await Promise.all([client.stop(), reader.stop()])
}
