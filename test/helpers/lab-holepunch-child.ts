/**
 * A trackerless client for the NAT lab's holepunch tests, run in a namespace: no DHT, no LSD, no
 * port mapping, so peers meet only through a relay they both dial and its PEX. Prints JSON lines;
 * reads commands on stdin; exits when stdin closes.
 *
 * `relay`: prints {"port"}; then each stdin line is an infohash it joins (lazily: it fetches
 * metadata, no pieces), answered by {"joined"}, and by {"connected": "host:port"} once a peer of
 * it is connected and its listen address known (null after 30 s). At the end of stdin it prints its holepunch stats.
 * `seed FILE RELAY`: seeds FILE, prints {"infoHash", "port"}; on the stdin line "dial" it dials
 * RELAY ("host:port"), on "dial HOST:PORT" that address, and prints {"dialled"}.
 * `get INFOHASH RELAY`: downloads through RELAY; prints {"firstByteMs"} at the first verified
 * piece (ms since lookup()) and, once done, {"doneMs", "bytes", "peers": [{address, transport,
 * punchedMs}]}, where punchedMs is when a holepunch connect made us dial that address (ms since
 * lookup()), or null.
 */
import { createInterface } from 'node:readline'
import { Torrent } from '../../index.js'
import { parseMagnet } from '../../lib/metainfo/magnet.js'
import type { HolepunchStats } from '../../lib/swarm/holepunch.js'

interface SwarmView {
  peers: Set<{ address: string, wire: { transport: string } }>
  connections: { holepunch: { stats: HolepunchStats }, pex: { addressOf: (peer: unknown) => string | null } }
}

const [mode, target, relay] = process.argv.slice(2) as [string, string | undefined, string | undefined]
const print = (o: object): void => { console.log(JSON.stringify(o)) }
const lines = createInterface({ input: process.stdin })
// LAB_UTP_ONLY=1: no TCP, so that a libtorrent relay, which finds a rendezvous' target by its
// connection's endpoint, sees our listen port (uTP's socket) as that endpoint.
const client = new Torrent({ dht: false, lsd: false, natTraversal: false, pex: mode !== 'seed', ...(process.env.LAB_UTP_ONLY === '1' ? { tcp: false } : {}) })
const swarmOf = (infoHash: string): SwarmView => (client as unknown as { swarms: Map<string, { swarm: SwarmView }> }).swarms.get(infoHash)!.swarm
await client.start()

if (mode === 'relay') {
  print({ port: client.port })
  const joined: string[] = []
  for await (const line of lines) {
    const infoHash = line.trim()
    // lookup() resolves once the seeder gave the metadata; the swarm exists (and accepts) at once.
    client.lookup(infoHash, { download: 'lazy', timeout: 60_000 }).catch(() => {})
    joined.push(infoHash)
    print({ joined: infoHash })
    // Then, once a peer has joined and told its listen port, {"connected"}: PEX tells it from now on.
    const swarms = (client as unknown as { swarms: Map<string, { swarm: SwarmView }> }).swarms
    const until = Date.now() + 30_000
    const poll = setInterval(() => {
      const swarm = swarms.get(infoHash)?.swarm
      const known = swarm === undefined ? undefined : [...swarm.peers].map((p) => swarm.connections.pex.addressOf(p)).find((a) => a !== null)
      if (known === undefined && Date.now() < until) return
      clearInterval(poll)
      print({ connected: known ?? null })
    }, 20)
  }
  for (const infoHash of joined) print({ stats: statsOf(swarmOf(infoHash).connections.holepunch.stats) })
} else if (mode === 'seed') {
  const magnet = await client.seed(target!)
  const infoHash = parseMagnet(magnet).infoHash!.toString('hex')
  print({ infoHash, port: client.port })
  for await (const line of lines) {
    const [command, to = relay!] = line.trim().split(' ')
    if (command !== 'dial') continue
    await client.lookup(magnet, { peers: [to] })
    print({ dialled: to })
  }
} else {
  const started = Date.now()
  const archive = await client.lookup(target!, { peers: [relay!], download: 'all', timeout: 30_000 })
  archive.once('progress', () => print({ firstByteMs: Date.now() - started }))
  if (archive.progress < 1) await new Promise<void>((resolve) => archive.once('done', () => resolve()))
  const swarm = swarmOf(target!)
  const punched = swarm.connections.holepunch.stats.punched
  print({
    doneMs: Date.now() - started,
    bytes: archive.downloaded,
    stats: statsOf(swarm.connections.holepunch.stats),
    peers: [...swarm.peers].map((p) => ({ address: p.address, transport: p.wire.transport, punchedMs: punched.has(p.address) ? punched.get(p.address)! - started : null }))
  })
  for await (const _line of lines) { /* wait for stdin to close */ }
}
await client.stop()

function statsOf (s: HolepunchStats): object {
  return { rendezvousSent: s.rendezvousSent, askedEarly: s.askedEarly, relayed: s.relayed, refused: s.refused, punched: [...s.punched.keys()] }
}
