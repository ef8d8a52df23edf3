import type { Command } from 'commander'
import { addCommonOptions, type CommonOptions } from '../common.js'
import { readKeyFile } from '../keyfile.js'
import { runSession, untilStopped } from '../session.js'

interface PublishCommandOptions extends CommonOptions {
  key: string
  salt?: string
}

export function register (program: Command): void {
  const cmd = program
    .command('publish')
    .description('point a mutable link (btpk) at a torrent on the DHT: prints the link, keeps it alive until Ctrl-C')
    .argument('<magnet>', 'magnet link, infohash or .torrent file to point at')
    .requiredOption('--key <keyfile>', 'key pair from "trackerless keygen"')
    .option('--salt <text>', 'salt: one key can publish several links')
  addCommonOptions(cmd).action((target: string, o: PublishCommandOptions) => runSession(o, {}, async ({ client, out, signal }) => {
    const { publicKey, privateKey } = await readKeyFile(o.key)
    out.info('publishing on the DHT')
    const link = await client.publish(target, publicKey, privateKey, o.salt !== undefined ? { salt: o.salt } : {})
    out.result(link, { event: 'published', link, publicKey: publicKey.toString('hex') })
    out.info('keeping the link alive on the DHT; Ctrl-C to stop')
    await untilStopped(signal)
    out.info('stopped', { event: 'stopped', reason: 'signal' })
  }))
}
