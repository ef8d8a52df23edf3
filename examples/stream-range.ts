/**
 * SPEC flow 3: stream a byte range. The reader opens the archive lazily, so only the pieces under
 * the range (and a few just ahead of it) are fetched, and they jump the queue. Nothing leaves
 * 127.0.0.1.
 *
 *   npm run build && node dist/examples/stream-range.js
 */
import { randomBytes } from 'node:crypto'
import { Torrent, Archive } from '../index.js'

const options = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const seeder = new Torrent(options)
const reader = new Torrent(options)
await Promise.all([seeder.start(), reader.start()])

try {
  const video = randomBytes(32 * 1024 * 1024)
  const draft = new Archive()
  await draft.writeFile('/video.bin', video)
  const magnet = await seeder.seed(draft)

  const archive = await reader.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], download: 'lazy', timeout: 10_000 })
  const start = 20_000_000
  const end = start + 99_999
  let received = 0
  const chunks: Buffer[] = []
  for await (const chunk of archive.createReadStream('/video.bin', { start, end })) {
    chunks.push(chunk as Buffer)
    received += (chunk as Buffer).length
  }
  const same = Buffer.concat(chunks).equals(video.subarray(start, end + 1))
  console.log(`streamed bytes ${start}-${end}: ${received} bytes, identical: ${same}`)
  console.log(`fetched ${(archive.progress * 100).toFixed(1)}% of the archive for it`)
} finally {
  await Promise.all([seeder.stop(), reader.stop()])
}
