/**
 * A TCP probe for the NAT lab, run in a namespace. `listen PORT` prints {"listening":port} and then
 * {"accepted":"host:port"} for every connection; `connect HOST PORT MS` prints {"connected":"local
 * host:port"} or {"error":code} ("ETIMEDOUT" if nothing came back within MS: a silent drop).
 */
import net from 'node:net'

const [mode, a, b, c] = process.argv.slice(2)
const print = (o: object): void => { console.log(JSON.stringify(o)) }
if (mode === 'listen') {
  const server = net.createServer((s) => { print({ accepted: `${s.remoteAddress}:${s.remotePort}` }); s.destroy() })
  server.listen(Number(a), '0.0.0.0', () => print({ listening: (server.address() as net.AddressInfo).port }))
  process.stdin.resume().on('end', () => server.close())
} else {
  const socket = net.connect(Number(b), a)
  const timer = setTimeout(() => { print({ error: 'ETIMEDOUT' }); socket.destroy() }, Number(c))
  socket.once('connect', () => { clearTimeout(timer); print({ connected: `${socket.localAddress}:${socket.localPort}` }); socket.destroy() })
  socket.once('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); print({ error: err.code }) })
}
