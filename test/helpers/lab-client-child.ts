/**
 * A trackerless client for the NAT lab, run in a namespace, finding peers by the DHT only (argv[3]
 * is the bootstrap node; no LSD, no PEX, no named peers). Prints JSON lines; exits when stdin closes.
 *
 * `seed FILE BOOTSTRAP`: maps its ports on the router, prints every {"nat":…} outcome, then
 * {"infoHash", "port", "advertisedPort"} once it seeds FILE.
 * `get INFOHASH BOOTSTRAP`: downloads with port mapping off; prints {"firstByteMs", "peer"} when
 * the first piece is verified (ms since lookup() was called) and {"doneMs", "bytes", "peers"} at the end.
 */
import { Torrent } from '../../index.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'

const [mode, target, bootstrap] = process.argv.slice(2) as [string, string, string]
const print = (o: object): void => { console.log(JSON.stringify(o)) }
const stdinClosed = new Promise<void>((resolve) => process.stdin.resume().on('end', () => resolve()))

if (mode === 'seed') {
  const client = new Torrent({ dht: [bootstrap], lsd: false, pex: false })
  client.nat.on('map', (m) => print({ nat: 'map', ...m }))
  client.nat.on('fail', (err, protocol, port) => print({ nat: 'fail', code: err.code, message: err.message, protocol, port }))
  await client.start()
  const magnet = await client.seed(target)
  print({ infoHash: parseMagnet(magnet).infoHash?.toString('hex'), port: client.port, advertisedPort: client.advertisedPort })
  await stdinClosed
  await client.stop()
} else {
  const client = new Torrent({ dht: [bootstrap], lsd: false, pex: false, natTraversal: false })
  await client.start()
  const started = Date.now()
  const archive = await client.lookup(target, { download: 'all', timeout: 20_000 })
  const peers: string[] = []
  archive.on('peer', (address) => peers.push(address))
  archive.once('progress', () => print({ firstByteMs: Date.now() - started, peer: archive.peers[0] ?? null }))
  if (archive.progress < 1) await new Promise<void>((resolve) => archive.once('done', () => resolve()))
  print({ doneMs: Date.now() - started, bytes: archive.downloaded, peers: [...new Set([...peers, ...archive.peers])] })
  await stdinClosed
  await client.stop()
}
