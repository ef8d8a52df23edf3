/**
 * A downloader in its own process, for tests that must kill it: downloads argv[2] (a magnet) from
 * argv[3] (host:port) into argv[4]; with argv[5] = a fraction, SIGKILLs itself once that share of
 * pieces is verified. Prints one JSON line when done: what it found on disk and what it fetched.
 *
 * With TL_CHILD_EVENTS=1 it also prints, as they happen, {"ready":<share found on disk>} once the
 * resume scan is over and {"piece":<index>} for every piece verified and stored, so that a parent
 * that kills it at any moment knows which pieces were on disk by then (stdout is a pipe, written
 * synchronously on Linux: a line printed is a line the parent gets, whatever follows).
 */
import { Torrent } from '../../index.js'

const [magnet, peer, dir, killAt] = process.argv.slice(2) as [string, string, string, string | undefined]
const events = process.env.TL_CHILD_EVENTS === '1'
const client = new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1', storage: dir })
await client.start()
const archive = await client.lookup(magnet, { peers: [peer], download: 'all', timeout: 20_000 })
const foundOnDisk = archive.progress
if (events) {
  console.log(JSON.stringify({ ready: foundOnDisk }))
  archive.on('progress', (_p, piece) => console.log(JSON.stringify({ piece })))
}
if (killAt !== undefined) {
  archive.on('progress', (p) => { if (p >= Number(killAt)) process.kill(process.pid, 'SIGKILL') })
}
if (archive.progress < 1) await new Promise<void>((resolve) => archive.once('done', () => resolve()))
const downloaded = archive.downloaded
await client.stop()
console.log(JSON.stringify({ foundOnDisk, downloaded }))
