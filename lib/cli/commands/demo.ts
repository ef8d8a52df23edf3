import { randomBytes } from 'node:crypto'
import type { Command } from 'commander'
import { Archive } from '../../archive/archive.js'
import { Torrent } from '../../client/torrent.js'
import { TrackerlessError } from '../../errors.js'
import { createKeypair } from '../../mutable/keys.js'
import { addOutputOptions, type OutputFlags } from '../common.js'
import type { Output } from '../output.js'
import { formatBytes, showProgress } from '../progress.js'
import { runLocal } from '../session.js'

/** Everything binds 127.0.0.1 and nobody's DHT but the demo's own is named: nothing leaves the machine. */
const LOOPBACK = { lsd: false, host: '127.0.0.1' } as const
const STEPS = 6

export function register (program: Command): void {
  const cmd = program
    .command('demo')
    .description('a complete offline run on 127.0.0.1: local DHT, seed, download by infohash, publish and resolve a mutable link')
  addOutputOptions(cmd).action((o: OutputFlags) => runLocal(o, {}, (out, signal) => demo(out, signal)))
}

async function demo (out: Output, signal: AbortSignal): Promise<void> {
  const step = (n: number, text: string): void => out.info(`[${n}/${STEPS}] ${text}`, { event: 'step', step: n, of: STEPS, text })
  const clients: Torrent[] = []
  const client = async (dht: string[]): Promise<Torrent> => {
    const c = new Torrent({ ...LOOPBACK, dht })
    clients.push(c)
    await c.start()
    return c
  }
  try {
    const bootstrap = await client([])
    const local = [`127.0.0.1:${bootstrap.dhtPort}`]
    step(1, `a DHT bootstrap node on 127.0.0.1:${bootstrap.dhtPort}`)

    const seeder = await client(local)
    const draft = new Archive()
    await draft.writeFile('/index.html', '<h1>Hello from a trackerless archive</h1>\n')
    await draft.writeFile('/data/noise.bin', randomBytes(8 * 1024 * 1024))
    const magnet = await seeder.seed(draft)
    const infoHash = draft.infoHash
    step(2, `seeding a generated archive (${formatBytes(draft.length)}) on 127.0.0.1:${seeder.port}: ${magnet}`)

    const reader = await client(local)
    step(3, `a second client looks up ${infoHash} through the DHT alone`)
    const archive = await reader.lookup(infoHash, { download: 'all', signal, timeout: 30_000 })
    const view = showProgress(archive, out)
    try {
      await new Promise<void>((resolve, reject) => {
        if (archive.progress === 1) return resolve()
        archive.once('done', () => resolve())
        signal.addEventListener('abort', () => reject(new TrackerlessError('EABORTED', 'demo interrupted')), { once: true })
      })
    } finally {
      view.stop()
    }
    step(4, `downloaded and verified every piece; /index.html reads: ${(await archive.readFile('/index.html', 'utf8')).trim()}`)

    const { publicKey, privateKey } = await createKeypair()
    const link = await seeder.publish(magnet, publicKey, privateKey)
    step(5, `published under a fresh key: ${link}`)

    const resolver = await client(local)
    const mutable = await resolver.lookup(link, { signal, timeout: 30_000 })
    if (mutable.infoHash !== infoHash) throw new TrackerlessError('EBADTORRENT', `the mutable link resolved to ${mutable.infoHash}, not ${infoHash}`)
    step(6, `a third client resolved the link to ${mutable.infoHash} and read /index.html: ${(await mutable.readFile('/index.html', 'utf8')).trim()}`)
    out.result('demo complete: everything stayed on 127.0.0.1', { event: 'stopped', reason: 'finished' })
  } finally {
    await Promise.all(clients.map((c) => c.stop()))
  }
}
