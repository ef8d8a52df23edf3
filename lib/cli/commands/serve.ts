import { InvalidArgumentError, Option, type Command } from 'commander'
import { createGateway } from '../../gateway/gateway.js'
import { addCommonOptions, addMemoryOption, addPeerOption, addTimeoutOption, parsePort, type CommonOptions } from '../common.js'
import { runSession, untilStopped } from '../session.js'
import { parseSize } from '../size.js'

interface ServeOptions extends CommonOptions {
  /** The HTTP port here; the peer port is --torrent-port. */
  port: number
  host: string
  peer?: string[]
  timeout: number
  cacheSize: number
  allowHost?: string[]
  maxConnections: number
}

export function register (program: Command): void {
  const cmd = program
    .command('serve')
    .description('HTTP gateway: http://<infohash>.btih.localhost:PORT/<path> serves the files of any archive, until Ctrl-C')
    .addOption(new Option('--port <port>', 'HTTP port (0: any free port)').argParser(parsePort).default(8080))
    .addOption(new Option('--host <address>', 'HTTP address to bind').default('127.0.0.1').argParser(nonEmpty))
    .addOption(new Option('--cache-size <bytes>', 'bytes of archives kept open between requests (suffix K, M, G)').argParser(parseSize).default(512 * 2 ** 20, '512M'))
    .addOption(new Option('--allow-host <name>', 'a host name the gateway answers for besides localhost and its address (repeatable)').argParser(collectHost))
    .addOption(new Option('--max-connections <n>', 'HTTP connections served at once').argParser(parseCount).default(256))
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  addMemoryOption(cmd)
  addCommonOptions(cmd, '--torrent-port').action((o: ServeOptions) => serve(o))
}

async function serve (o: ServeOptions): Promise<void> {
  await runSession({ ...o, port: undefined }, {}, async ({ client, out, signal }) => {
    const gateway = createGateway({ client, peers: o.peer, timeout: o.timeout, cacheSize: o.cacheSize, allowHosts: o.allowHost, maxConnections: o.maxConnections })
    try {
      const address = await gateway.listen(o.port, o.host)
      out.result(address.url, { event: 'listening', url: address.url, host: address.host, port: address.port, torrentPort: client.port })
      out.info(`open http://<infohash>.btih.localhost:${address.port}/ (or ${address.url}btih/<infohash>/) in a browser; Ctrl-C to stop`)
      await untilStopped(signal)
      out.info('stopped', { event: 'stopped', reason: 'signal' })
    } finally {
      await gateway.close()
    }
  })
}

function nonEmpty (text: string): string {
  if (text.trim() === '') throw new InvalidArgumentError('expected an address')
  return text
}

function parseCount (text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) === 0) throw new InvalidArgumentError('expected a positive whole number')
  return Number(text)
}

function collectHost (text: string, previous: string[] | undefined): string[] {
  const name = text.trim().toLowerCase()
  if (!/^[a-z0-9.-]+$|^[0-9a-f:]+$/.test(name)) throw new InvalidArgumentError('expected a host name or address, without port or scheme')
  return [...previous ?? [], name]
}
