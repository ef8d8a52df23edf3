import fs from 'node:fs/promises'
import path from 'node:path'
import type { Command } from 'commander'
import type { Archive } from '../../archive/archive.js'
import { TrackerlessError } from '../../errors.js'
import { addCommonOptions, addPeerOption, addTimeoutOption, type CommonOptions } from '../common.js'
import { formatBytes, showProgress } from '../progress.js'
import { runSession, untilStopped } from '../session.js'

export interface GetOptions extends CommonOptions {
  output: string
  peer?: string[]
  seed?: boolean
  timeout: number
}

/** The options `get` and `download` share. */
export function addDownloadOptions (cmd: Command): Command {
  cmd
    .option('-o, --output <dir>', 'folder to save the archive under', '.')
    .option('--seed', 'keep seeding once the download is complete, until Ctrl-C')
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
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
    const archive = await client.lookup(url, { download: 'all', peers: o.peer, timeout: o.timeout, signal })
    const infoHash = archive.infoHash
    const files = (await archive.readdir('/', { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).length
    out.info(`found "${archive.name}": ${files} file${files === 1 ? '' : 's'}, ${formatBytes(archive.length)}`,
      { event: 'metadata', infoHash, name: archive.name, length: archive.length, files })
    archive.on('peer', (address) => out.detail(`peer ${address}`, { event: 'peer', infoHash, address }))
    const view = showProgress(archive, out)
    try {
      await untilComplete(archive, signal)
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

/** Every piece verified, or EABORTED on Ctrl-C, or the archive's storage error. */
function untilComplete (archive: Archive, signal: AbortSignal): Promise<void> {
  if (archive.progress === 1) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const finish = (err?: Error): void => {
      archive.off('done', onDone)
      archive.off('error', onError)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDone = (): void => finish()
    const onError = (err: Error): void => finish(err)
    const onAbort = (): void => finish(new TrackerlessError('EABORTED', 'interrupted before the download was complete; run the same command again to resume'))
    archive.on('done', onDone)
    archive.on('error', onError)
    signal.addEventListener('abort', onAbort)
  })
}
