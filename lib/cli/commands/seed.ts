import fs from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { formatMagnet, parseMagnet } from '../../metainfo/magnet.js'
import { formatAddress } from '../../discovery/address.js'
import { addCommonOptions, addPeerOption, type CommonOptions } from '../common.js'
import { runSession, untilStopped } from '../session.js'

interface SeedCommandOptions extends CommonOptions {
  peer?: string[]
  torrentOut?: string
  name?: string
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]'])

export function register (program: Command): void {
  const cmd = program
    .command('seed')
    .description('seed a file or folder: prints its magnet link, then seeds until Ctrl-C')
    .argument('<path>', 'file or folder to seed')
    .option('--name <name>', 'the torrent\'s name (default: the file\'s or folder\'s name)')
    .option('--torrent-out <file>', 'also write the .torrent file here')
  addPeerOption(cmd)
  addCommonOptions(cmd).action((source: string, o: SeedCommandOptions) => seed(source, o))
}

async function seed (source: string, o: SeedCommandOptions): Promise<void> {
  await runSession(o, {}, async ({ client, out, signal }) => {
    out.info(`hashing ${source}`)
    const seeded = await client.seed(source, { ...(o.peer !== undefined ? { peers: o.peer } : {}), ...(o.name !== undefined ? { name: o.name } : {}) })
    const link = parseMagnet(seeded)
    const infoHash = link.infoHash!.toString('hex')
    // Bound to one address, the link can say where to find us, so `get MAGNET` needs no --peer.
    if (o.bind !== undefined && !ANY_ADDRESS.has(o.bind)) link.peers = [formatAddress(o.bind, client.port)]
    const magnet = formatMagnet(link)
    let torrentFile: string | null = null
    if (o.torrentOut !== undefined) {
      torrentFile = path.resolve(o.torrentOut)
      await fs.writeFile(torrentFile, client.torrentFile(seeded)!)
      out.info(`wrote ${torrentFile}`)
    }
    out.result(magnet, { event: 'seeding', infoHash, magnet, port: client.port, torrentFile })
    out.info(`seeding on port ${client.port}; Ctrl-C to stop`)
    await untilStopped(signal)
    out.info('stopped', { event: 'stopped', reason: 'signal' })
  })
}
