/**
 * One LSD peer of lsd.test.ts, run inside the test's network namespace. Prints JSON lines.
 *   seed <hex content>   seeds a one-file archive; prints { magnet, port }; runs until stdin ends
 *   get <infohash>       fetches it with LSD as the only peer source; prints { content, peers }; exits
 *   probe <Y> <X>        two TCP servers; on "announce" announces Y for the first and X for the
 *                        second; on "report" prints the infohashes each one was asked for
 * With LSD_FAMILY=6 in the environment, seed and get listen on :: and use LSD's default groups,
 * for a namespace that has IPv6 addresses only.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import readline from 'node:readline'
import { Torrent, Archive } from '../../index.js'
import { encodeLsdAnnounces, LSD_GROUP4, LSD_PORT } from '../../lib/discovery/lsd-packet.js'

const [mode, a, b] = process.argv.slice(2) as [string, string, string | undefined]
const say = (record: object): void => { process.stdout.write(JSON.stringify(record) + '\n') }
const options = process.env.LSD_FAMILY === '6'
  ? { dht: false as const, pex: false, lsd: true, host: '::' }
  : { dht: false as const, pex: false, lsd: { interface: '127.0.0.1' }, host: '127.0.0.1' }
const commands = readline.createInterface({ input: process.stdin })

if (mode === 'seed') {
  const client = new Torrent(options)
  await client.start()
  const draft = new Archive()
  await draft.writeFile('/data.bin', Buffer.from(a, 'hex'))
  say({ magnet: await client.seed(draft), port: client.port })
  commands.on('close', () => { client.stop().catch(() => {}) })
} else if (mode === 'get') {
  const client = new Torrent(options)
  await client.start()
  const archive = await client.lookup(a, { timeout: 20_000 })
  // The peers while downloading: once complete, the getter closes its connection to the seeder (BEP21).
  let peers = archive.peers
  archive.once('progress', () => { peers = archive.peers })
  const content = (await archive.readFile('/data.bin') as Buffer).toString('hex')
  say({ content, peers })
  await client.stop()
  commands.close()
} else if (mode === 'probe') {
  const asked: Array<string[]> = [[], []]
  const servers = asked.map((list) => net.createServer((socket) => {
    // The infohash sits at bytes 28-48 of the BitTorrent handshake. A plain-text peer: an
    // encryption handshake is closed, and the dialler retries in plain text.
    let head = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      if (head.length >= 48) {
        if (head.subarray(0, 20).equals(Buffer.from('\x13BitTorrent protocol', 'latin1'))) list.push(head.subarray(28, 48).toString('hex'))
        socket.destroy()
      }
    })
    socket.on('error', () => {})
  }))
  const ports = await Promise.all(servers.map((s) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)))))
  const socket = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  socket.setMulticastInterface('127.0.0.1')
  say({ ready: true })
  commands.on('line', (line) => {
    if (line === 'announce') {
      const host = `${LSD_GROUP4}:${LSD_PORT}`
      const packets = [...encodeLsdAnnounces(host, ports[0]!, [a], 'probe'), ...encodeLsdAnnounces(host, ports[1]!, [b!], 'probe')]
      for (const p of packets) socket.send(p, LSD_PORT, LSD_GROUP4)
    } else if (line === 'report') {
      say({ first: asked[0], second: asked[1] })
    }
  })
  commands.on('close', () => {
    socket.close()
    for (const s of servers) s.close()
  })
}
