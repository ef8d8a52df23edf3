import type { Command } from 'commander'
import { addDownloadOptions, fetchArchive, type GetOptions } from './get.js'

interface DownloadOptions extends GetOptions {
  torrent?: string
}

/** `get` spelled the way other BitTorrent tools are called: `download -t FILE.torrent` or `download MAGNET`. */
export function register (program: Command): void {
  const cmd = program
    .command('download')
    .description('download an archive (same as get): -t FILE.torrent, or a magnet link')
    .argument('[magnet]', 'magnet link or infohash')
    .option('-t, --torrent <file>', '.torrent file to download')
  addDownloadOptions(cmd).action(async (magnet: string | undefined, o: DownloadOptions, self: Command) => {
    if ((magnet === undefined) === (o.torrent === undefined)) {
      self.error('error: give either -t FILE.torrent or a magnet link', { exitCode: 2, code: 'trackerless.usage' })
    }
    await fetchArchive(o.torrent !== undefined ? { torrentFile: o.torrent } : magnet!, o)
  })
}
