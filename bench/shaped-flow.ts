/**
 * A plain TCP bulk flow for bench/utp-shaped.ts, the user's other traffic that LEDBAT must yield to:
 *   sink <host>          prints {"port": N}, counts what arrives; answers each stdin line with
 *                        {"bytes": received so far}; exits when stdin closes
 *   send <host> <port>   writes zeros as fast as TCP takes them until stdin closes
 */
import net from 'node:net'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const CHUNK = Buffer.alloc(64 * 1024)

function print (record: object): void {
  process.stdout.write(JSON.stringify(record) + '\n')
}

async function sink (host: string): Promise<void> {
  let bytes = 0
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('data', (d: Buffer) => { bytes += d.length })
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, host)
  await once(server, 'listening')
  print({ port: (server.address() as net.AddressInfo).port })
  const lines = createInterface({ input: process.stdin })
  lines.on('line', () => print({ bytes }))
  await once(lines, 'close')
  for (const socket of sockets) socket.destroy()
  server.close()
}

async function send (host: string, port: number): Promise<void> {
  const socket = net.connect(port, host)
  socket.on('error', (err) => { process.stderr.write(`shaped-flow: ${err.message}\n`); process.exit(1) })
  await once(socket, 'connect')
  print({ connected: true })
  process.stdin.on('end', () => { socket.destroy(); process.exit(0) }).resume()
  for (;;) {
    if (!socket.write(CHUNK)) await once(socket, 'drain')
  }
}

const [mode, host, port] = process.argv.slice(2)
const run = mode === 'sink' && host !== undefined
  ? sink(host)
  : mode === 'send' && host !== undefined && port !== undefined
    ? send(host, Number(port))
    : Promise.reject(new Error('usage: shaped-flow sink <host> | send <host> <port>'))
run.then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`shaped-flow: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
