import { pipeline } from 'node:stream/promises'
import type { Command } from 'commander'
import { addCommonOptions, addMemoryOption, addPeerOption, addTimeoutOption, type CommonOptions } from '../common.js'
import { runSession } from '../session.js'

interface CatOptions extends CommonOptions {
  peer?: string[]
  timeout: number
}

export function register (program: Command): void {
  const cmd = program
    .command('cat')
    .description('write a file of an archive to stdout (fetches only the pieces it needs)')
    .argument('<url>', 'magnet link, infohash or .torrent file')
    .argument('<path>', 'file inside the archive')
  addPeerOption(cmd)
  addTimeoutOption(cmd, 30_000)
  addMemoryOption(cmd)
  addCommonOptions(cmd).action((url: string, file: string, o: CatOptions) => cat(url, file, o))
}

async function cat (url: string, file: string, o: CatOptions): Promise<void> {
  await runSession(o, { dataOnStdout: true }, async ({ client, signal }) => {
    const archive = await client.lookup(url, { peers: o.peer, timeout: o.timeout, signal })
    await archive.stat(file)
    try {
      await pipeline(archive.createReadStream(file, { signal }), process.stdout, { end: false })
    } catch (err) {
      // The reader went away (`| head`): it has what it wanted.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err
    }
  })
}
