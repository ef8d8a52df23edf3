/**
 * Loopback throughput of one stream, uTP against TCP, sender and receiver in this one process
 * (so the CPU figure covers both ends). uTP runs twice: with the safe 1400-byte datagrams only
 * (no loopback probe), and as it runs by default, probing for 64 KiB datagrams on loopback.
 * A report, not a test. Usage:
 *   node dist/bench/utp.js [MiB=256]
 */
import dgram from 'node:dgram'
import { once } from 'node:events'
import net from 'node:net'
import type { PeerStream } from '../lib/transport/types.js'
import { UtpTransport, type UtpTransportOptions } from '../lib/transport/utp/transport.js'
import { literalLookup } from '../lib/transport/udp-port.js'

const MIB = 1 << 20
const GIB = 1 << 30

interface Result { name: string, mbps: number, cpuPerGiB: number }

async function pump (from: PeerStream | net.Socket, to: PeerStream | net.Socket, total: number): Promise<void> {
  const chunk = Buffer.alloc(16 * 1024, 0x5a)
  let got = 0
  const done = new Promise<void>((resolve) => {
    to.on('data', (d: Buffer) => {
      got += d.length
      if (got >= total) resolve()
    })
  })
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!from.write(chunk)) await once(from, 'drain')
  }
  await done
}

async function measure (name: string, total: number, run: () => Promise<void>): Promise<Result> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await run()
  const sec = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { name, mbps: total / 1e6 / sec, cpuPerGiB: (cpu.user + cpu.system) / 1e6 * GIB / total }
}

async function utp (total: number, options: UtpTransportOptions): Promise<void> {
  const server = new UtpTransport(options)
  const client = new UtpTransport(options)
  let accept: (s: PeerStream) => void = () => {}
  const accepted = new Promise<PeerStream>((resolve) => { accept = resolve })
  const port = await server.listen(0, '127.0.0.1', (s) => accept(s))
  const a = client.dial('127.0.0.1', port)
  await once(a, 'connect')
  a.write(Buffer.alloc(1))
  const b = await accepted
  await pump(a, b, total)
  a.destroy()
  await client.close()
  await server.close()
}

async function tcp (total: number): Promise<void> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1')
  const [b] = await accepted
  await pump(a, b, total)
  a.destroy()
  b.destroy()
  server.close()
}

/** No uTP at all: 1400-byte datagrams between two sockets, 64 in flight, so the per-datagram cost of
 *  node:dgram (send, receive, a Buffer per datagram) bounds uTP at the safe size. */
async function bareDgram (total: number, lookup?: ReturnType<typeof literalLookup>): Promise<void> {
  const size = 1400
  const a = dgram.createSocket({ type: 'udp4', ...(lookup !== undefined ? { lookup } : {}) })
  const b = dgram.createSocket('udp4')
  const listening = Promise.all([once(a, 'listening'), once(b, 'listening')])
  a.bind(0, '127.0.0.1')
  b.bind(0, '127.0.0.1')
  await listening
  // As UtpTransport sets them: a burst must fit, or loopback drops and this waits forever.
  b.setRecvBufferSize(4 * MIB)
  const port = b.address().port
  const msg = Buffer.alloc(size, 0x5a)
  const count = Math.ceil(total / size)
  let sent = 0
  let got = 0
  await new Promise<void>((resolve) => {
    const burst = (): void => {
      const until = Math.min(count, sent + 64)
      while (sent < until) { a.send(msg, port, '127.0.0.1'); sent++ }
    }
    b.on('message', () => {
      if (++got === count) resolve()
      else if (got === sent) burst()
    })
    burst()
  })
  a.close()
  b.close()
}

const total = Number(process.argv[2] ?? 256) * MIB
const results = [
  await measure('tcp', total, async () => await tcp(total)),
  await measure('utp 1400-byte datagrams', total, async () => await utp(total, { loopbackPacketSize: 0 })),
  await measure('utp loopback probe (default)', total, async () => await utp(total, {})),
  await measure('bare dgram, 1400-byte datagrams, no uTP', total, async () => await bareDgram(total)),
  await measure('bare dgram, 1400-byte datagrams, literal lookup', total, async () => await bareDgram(total, literalLookup()))
]
for (const r of results) console.log(`${r.name}: ${r.mbps.toFixed(1)} MB/s, ${r.cpuPerGiB.toFixed(1)} CPU-s/GiB, ${(r.mbps / results[0]!.mbps).toFixed(2)} of tcp`)
