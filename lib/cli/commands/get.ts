import fs from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { addCommonOptions, addPeerOption, addTimeoutOption, type CommonOptions } from '../common.js'
import { formatBytes, showProgress } from '../progress.js'
import { runSession, untilStopped } from '../session.js'
import { addNoTimeoutOption, withWhatWasTried, lookupTimeout, noticeNoPeers, triedText, untilComplete, type Patience } from '../waiting.js'

export interface GetOptions extends CommonOptions {
  output: string
  peer?: string[]
  seed?: boolean
  timeout: Patience
}

/** The options `get` and `download` share. */
export function addDownloadOptions (cmd: Command): Command {
  cmd
    .option('-o, --output <dir>', 'folder to save the archive under', '.')
    .option('--seed', 'keep seeding once the download is complete, until Ctrl-C')
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  addNoTimeoutOption(cmd)
  return addCommonOptions(cmd)
}

export function register (program: Command): void {
  const cmd = program
    .command('get')
    .description('download an archive into a folder')
    .argument('<url>', 'magnet link, infohash (40 hex digits) or .torrent file')
  addDownloadOptions(cmd).action((url: string, o: GetOptions) => fetchArchive(url, o))
}

/** Downloads every file of `source` (a link, an infohash, a .torrent path) into o.output. */
export async function fetchArchive (source: string | { torrentFile: string }, o: GetOptions): Promise<void> {
  const dir = path.resolve(o.output)
  await runSession(o, { storage: dir }, async ({ client, out, signal }) => {
    await fs.mkdir(dir, { recursive: true })
    const url = typeof source === 'string' ? source : await fs.readFile(source.torrentFile)
    out.info(`looking for ${typeof source === 'string' ? source : source.torrentFile}`)
    let found = 0
    const tried = (): string => triedText(o, found)
    const waiting = noticeNoPeers(out, o.timeout, 'with the file list', tried)
    const archive = await client.lookup(url, { download: 'all', peers: o.peer, timeout: lookupTimeout(o.timeout), signal })
      .catch((err: unknown) => { throw withWhatWasTried(err, tried()) })
      .finally(() => waiting.stop())
    found = archive.peers.length
    const infoHash = archive.infoHash
    const files = (await archive.readdir('/', { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).length
    out.info(`found "${archive.name}": ${files} file${files === 1 ? '' : 's'}, ${formatBytes(archive.length)}`,
      { event: 'metadata', infoHash, name: archive.name, length: archive.length, files })
    // The peers that sent the metadata connected before we could listen: -v lists them too.
    for (const address of archive.peers) out.detail(`peer ${address}`, { event: 'peer', infoHash, address })
    archive.on('peer', (address) => {
      found++
      out.detail(`peer ${address}`, { event: 'peer', infoHash, address })
    })
    const view = showProgress(archive, out)
    try {
      await untilComplete(archive, signal, o.timeout, out, tried)
    } finally {
      view.stop()
    }
    const saved = path.join(dir, archive.name)
    out.result(saved, { event: 'done', infoHash, path: saved, length: archive.length })
    if (o.seed === true) {
      out.info(`seeding on port ${client.port}; Ctrl-C to stop`)
      await untilStopped(signal)
      out.info('stopped', { event: 'stopped', reason: 'signal' })
    }
  })
}
