import { InvalidArgumentError, Option, type Command } from 'commander'
import { createGateway } from '../../gateway/gateway.js'
import { addCommonOptions, addPeerOption, addTimeoutOption, parsePort, type CommonOptions } from '../common.js'
import { runSession, untilStopped } from '../session.js'

interface ServeOptions extends CommonOptions {
  /** The HTTP port here; the peer port is --torrent-port. */
  port: number
  host: string
  peer?: string[]
  timeout: number
}

export function register (program: Command): void {
  const cmd = program
    .command('serve')
    .description('HTTP gateway: GET /btih/<infohash>/<path> serves the files of any archive, until Ctrl-C')
    .addOption(new Option('--port <port>', 'HTTP port (0: any free port)').argParser(parsePort).default(8080))
    .addOption(new Option('--host <address>', 'HTTP address to bind').default('127.0.0.1').argParser(nonEmpty))
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  addCommonOptions(cmd, '--torrent-port').action((o: ServeOptions) => serve(o))
}

async function serve (o: ServeOptions): Promise<void> {
  await runSession({ ...o, port: undefined }, {}, async ({ client, out, signal }) => {
    const gateway = createGateway({ client, peers: o.peer, timeout: o.timeout })
    try {
      const address = await gateway.listen(o.port, o.host)
      out.result(address.url, { event: 'listening', url: address.url, host: address.host, port: address.port, torrentPort: client.port })
      out.info(`open ${address.url}btih/<infohash>/ in a browser; Ctrl-C to stop`)
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
