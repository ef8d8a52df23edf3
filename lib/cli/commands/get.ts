import fs from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import { directoryStorage } from '../../storage/factories.js'
import { diskName } from '../../storage/ownership.js'
import { addCommonOptions, addPeerOption, addTimeoutOption, type CommonOptions } from '../common.js'
import { formatBytes, showProgress } from '../progress.js'
import { runSession, untilStopped } from '../session.js'
import { addSelectOptions, inFlagWords, selectedFiles, type SelectOptions } from '../select.js'
import { addNoTimeoutOption, withWhatWasTried, lookupTimeout, noticeNoPeers, triedText, untilComplete, type Patience } from '../waiting.js'

export interface GetOptions extends CommonOptions, SelectOptions {
  output: string
  force?: boolean
  peer?: string[]
  seed?: boolean
  timeout: Patience
}

const WHERE_FILES_GO = `
Where files go: the archive's folder (or its single file) is created in --output, by default the
current folder. It must not exist yet, unless trackerless downloaded it there before (then the
download resumes) or --force is given; otherwise nothing is written and the command fails with
EEXIST, naming the path. A name starting with "." is saved with "_" instead (.git as _git), so a
download never creates or enters a hidden entry. Symbolic links below the output folder are never
followed. What trackerless made is recorded in <output>/.trackerless/.`

/** The options `get` and `download` share. */
export function addDownloadOptions (cmd: Command): Command {
  cmd
    .option('-o, --output <dir>', 'folder to save the archive under; its folder or file is created there and never replaces an existing one (a leading "." becomes "_": .git is saved as _git)', '.')
    .option('--force', 'use a folder or file of the archive\'s name already in the output folder: verify it, keep what matches, overwrite the rest (never through a symbolic link)')
    .option('--seed', 'keep seeding once the download is complete, until Ctrl-C')
  addSelectOptions(cmd)
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  cmd.addHelpText('after', WHERE_FILES_GO)
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
  await runSession(o, { storage: directoryStorage(dir, { overwrite: o.force === true }) }, async ({ client, out, signal }) => {
    await fs.mkdir(dir, { recursive: true })
    const url = typeof source === 'string' ? source : await fs.readFile(source.torrentFile)
    out.info(`looking for ${typeof source === 'string' ? source : source.torrentFile}`)
    let found = 0
    const tried = (): string => triedText(o, found)
    const waiting = noticeNoPeers(out, o.timeout, 'with the file list', tried)
    const chosen = selectedFiles(o)
    const archive = await client.lookup(url, { download: 'all', ...(chosen !== undefined ? { files: chosen } : {}), peers: o.peer, timeout: lookupTimeout(o.timeout), signal })
      .catch((err: unknown) => { throw withWhatWasTried(inFlagWords(err, o), tried()) })
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
    const saved = path.join(dir, diskName(archive.name))
    out.result(saved, { event: 'done', infoHash, path: saved, length: archive.length })
    if (o.seed === true) {
      out.info(`seeding on port ${client.port}; Ctrl-C to stop`)
      await untilStopped(signal)
      out.info('stopped', { event: 'stopped', reason: 'signal' })
    }
  })
}
