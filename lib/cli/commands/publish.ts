import type { Command } from 'commander'
import { addDhtOptions, type CommonOptions } from '../common.js'
import { readKeyFile } from '../keyfile.js'
import { runSession, untilStopped } from '../session.js'

interface PublishCommandOptions extends Omit<CommonOptions, 'dht' | 'lsd' | 'pex'> {
  key: string
  salt?: string
}

export function register (program: Command): void {
  const cmd = program
    .command('publish')
    .description('point a mutable link (btpk) at a torrent on the DHT: prints the link, keeps it alive until Ctrl-C (seed --publish does both in one process)')
    .argument('<magnet>', 'magnet link, infohash or .torrent file to point at')
    .requiredOption('--key <keyfile>', 'key pair from "trackerless keygen"')
    .option('--salt <text>', 'salt: one key can publish several links')
  // The DHT only: a free peer port (so publish can run beside a seeder on the default one), no LSD or PEX.
  addDhtOptions(cmd).action((target: string, o: PublishCommandOptions) => runSession({ ...o, dht: true, lsd: false, pex: false, port: 0 }, {}, async ({ client, out, signal }) => {
    const { publicKey, privateKey } = await readKeyFile(o.key)
    out.info('publishing on the DHT')
    const link = await client.publish(target, publicKey, privateKey, o.salt !== undefined ? { salt: o.salt } : {})
    out.result(link, { event: 'published', link, publicKey: publicKey.toString('hex') })
    out.info('keeping the link alive on the DHT; Ctrl-C to stop')
    await untilStopped(signal)
    out.info('stopped', { event: 'stopped', reason: 'signal' })
  }))
}
