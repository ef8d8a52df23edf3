/**
 * A seeder in its own process, so that its memory is measured alone: opens argv[2] (a .torrent
 * file) over the data already in argv[3], prints {"port", "rss"} once every piece is verified, then
 * {"peakRss", "peakRssServing"} (bytes) for every line read on stdin, and exits when stdin closes.
 * "peakRssServing" is the peak since the first line was printed: what serving peers cost, apart
 * from the resume scan (/proc/self/clear_refs 5 resets the kernel's high-water mark).
 */
import fs from 'node:fs'
import { createInterface } from 'node:readline'
import { Torrent, directoryStorage } from '../../index.js'

const [torrentFile, dir] = process.argv.slice(2) as [string, string]
// `overwrite`: the data was written by the test, not downloaded by trackerless.
const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: directoryStorage(dir, { overwrite: true }) })
await client.start()
const archive = await client.lookup(fs.readFileSync(torrentFile), { download: 'all', timeout: 20_000 })
if (archive.progress < 1) throw new Error(`the seeder found ${archive.progress} of the data on disk, not all of it`)
const rss = vmHwm()
fs.writeFileSync('/proc/self/clear_refs', '5')
console.log(JSON.stringify({ port: client.port, rss }))

for await (const _line of createInterface({ input: process.stdin })) {
  console.log(JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024, peakRssServing: vmHwm() }))
}
await client.stop()

/** The process's peak resident set since the last reset, in bytes. */
function vmHwm (): number {
  const line = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
  if (line === null) throw new Error('no VmHWM in /proc/self/status')
  return Number(line[1]) * 1024
}
