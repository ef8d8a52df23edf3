import path from 'node:path'
import type { Command } from 'commander'
import { addCommonOptions, addPeerOption, addTimeoutOption, type CommonOptions } from '../common.js'
import { runSession } from '../session.js'
import { parseTorrent } from '../../metainfo/torrent.js'

interface LsOptions extends CommonOptions {
  peer?: string[]
  timeout: number
  recursive?: boolean
  long?: boolean
  index?: boolean
}

export function register (program: Command): void {
  const cmd = program
    .command('ls')
    .description('list the files of an archive (fetches only its metadata)')
    .argument('<url>', 'magnet link, infohash or .torrent file')
    .argument('[path]', 'folder or file inside the archive', '/')
    .option('-r, --recursive', 'list everything below the folder')
    .option('-l, --long', 'show sizes in bytes')
    .option('-i, --index', 'show each file\'s index, the number `download --select` takes')
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  addCommonOptions(cmd).action((url: string, dir: string, o: LsOptions) => list(url, dir, o))
}

async function list (url: string, dir: string, o: LsOptions): Promise<void> {
  await runSession(o, {}, async ({ client, out, signal }) => {
    const archive = await client.lookup(url, { peers: o.peer, timeout: o.timeout, signal })
    const base = path.posix.join('/', dir)
    const indexes = o.index === true ? fileIndexes(client.torrentFile(archive.infoHash)) : null
    const stat = await archive.stat(base)
    const names = stat.isDirectory() ? await archive.readdir(base, { recursive: o.recursive }) : [path.posix.basename(base)]
    for (const name of names) {
      const full = stat.isDirectory() ? path.posix.join(base, name) : base
      const entry = await archive.stat(full)
      const directory = entry.isDirectory()
      const shown = directory ? `${name}/` : name
      const index = directory ? undefined : indexes?.get(full)
      const sized = o.long === true ? `${String(entry.size).padStart(12)}  ${shown}` : shown
      out.result(indexes !== null ? `${index === undefined ? '' : String(index)}`.padStart(6) + `  ${sized}` : sized,
        { event: 'entry', path: full, type: directory ? 'directory' : 'file', size: entry.size, ...(index !== undefined ? { index } : {}) })
    }
  })
}

/** Archive path of each file to its index (BEP47 pad files count, as in so=). */
function fileIndexes (torrent: Buffer | null): Map<string, number> {
  const out = new Map<string, number>()
  if (torrent !== null) parseTorrent(torrent).files.forEach((f, i) => out.set(`/${f.path}`, i))
  return out
}
