import fs from 'node:fs/promises'
import path from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { formatMagnet, magnetInfoHash, parseMagnet } from '../../metainfo/magnet.js'
import { formatAddress } from '../../discovery/address.js'
import { webSeedUrl } from '../../metainfo/url-list.js'
import { addCommonOptions, addPeerOption, type CommonOptions } from '../common.js'
import { collectGlob, ignoreFilter } from '../ignore.js'
import { readKeyFile } from '../keyfile.js'
import { showHashing } from '../progress.js'
import { runSession, untilStopped } from '../session.js'

interface SeedCommandOptions extends CommonOptions {
  peer?: string[]
  torrentOut?: string
  name?: string
  includeHidden?: boolean
  ignore?: string[]
  publish?: string
  salt?: string
  webSeed?: string[]
  torrentVersion?: 1 | 2 | 'hybrid'
  superSeed?: boolean
}

function collectUrl (text: string, previous: string[] | undefined): string[] {
  if (webSeedUrl(text) === null) throw new InvalidArgumentError('expected an http: or https: URL such as https://example.org/files/ (no user:password@)')
  return [...previous ?? [], text]
}

function parseTorrentVersion (value: string): 1 | 2 | 'hybrid' {
  if (value === '1' || value === '2') return Number(value) as 1 | 2
  if (value === 'hybrid') return value
  throw new InvalidArgumentError('use 1, 2 or hybrid')
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]'])

export function register (program: Command): void {
  const cmd = program
    .command('seed')
    .description('seed a file or folder: prints its magnet link, then seeds until Ctrl-C')
    .argument('<path>', 'file or folder to seed')
    .option('--name <name>', 'the torrent\'s name (default: the file\'s or folder\'s name)')
    .option('--torrent-out <file>', 'also write the .torrent file here')
    .option('--include-hidden', 'also seed hidden files and folders (.git, .env, ...) and OS/editor junk (Thumbs.db, *.swp, ...), left out by default')
    .option('--publish <keyfile>', 'also point the key\'s mutable link (btpk) at this torrent and keep it alive while seeding')
    .option('--salt <text>', 'with --publish: salt, so one key can publish several links')
    .addOption(new Option('--torrent-version <version>', 'BitTorrent version of the torrent: hybrid (v1 and v2, the default), 1, or 2 (v2-only: clients without v2 cannot fetch it)')
      .argParser(parseTorrentVersion))
    .option('--super-seed', 'offer peers one piece at a time, each to one peer until another has it (BEP16): the first full copy goes out with little sent twice')
    .addOption(new Option('--ignore <glob>', 'leave out files matching this glob ("*.log", "drafts/**"; repeatable)').argParser(collectGlob))
    .addOption(new Option('--web-seed <url>', 'an http(s) URL serving the same files, written into the torrent and link (BEP19; repeatable)').argParser(collectUrl))
  addPeerOption(cmd)
  addCommonOptions(cmd).action((source: string, o: SeedCommandOptions) => seed(source, o))
}

async function seed (source: string, o: SeedCommandOptions): Promise<void> {
  await runSession(o, {}, async ({ client, out, signal }) => {
    // A bad key file fails now, not after hashing a large folder.
    const key = o.publish !== undefined ? await readKeyFile(o.publish) : null
    out.info(`hashing ${source}`)
    const { ignore, skipped } = ignoreFilter({ includeHidden: o.includeHidden === true, globs: o.ignore ?? [] })
    const hashing = showHashing(out)
    const seeded = await client.seed(source, { ...(o.peer !== undefined ? { peers: o.peer } : {}), ...(o.name !== undefined ? { name: o.name } : {}), ...(o.webSeed !== undefined ? { webSeeds: o.webSeed } : {}), ...(o.torrentVersion !== undefined ? { version: o.torrentVersion } : {}), ...(o.superSeed === true ? { superSeed: true } : {}), ignore, onProgress: hashing.update })
      .finally(() => hashing.stop())
    if (skipped.length > 0) out.info(`left out ${skipped.length} hidden, junk or --ignore'd path${skipped.length === 1 ? '' : 's'} (--include-hidden to keep hidden ones): ${skipped.join(', ')}`)
    const link = parseMagnet(seeded)
    const infoHash = magnetInfoHash(link)!.toString('hex')
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
    if (key !== null) {
      const { publicKey, privateKey } = key
      const link = await client.publish(seeded, publicKey, privateKey, o.salt !== undefined ? { salt: o.salt } : {})
      out.result(link, { event: 'published', link, publicKey: publicKey.toString('hex') })
    }
    out.info(`seeding on port ${client.port}; Ctrl-C to stop`)
    await untilStopped(signal)
    out.info('stopped', { event: 'stopped', reason: 'signal' })
  })
}
