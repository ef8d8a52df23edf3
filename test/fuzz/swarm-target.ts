/**
 * The fuzz target for everything behind the codec: random sequences of well-framed messages
 * (wrong indices, sizes, orders, extension payloads) from a scripted peer to a seeder and to a
 * leecher that has only that peer as a source. The clients must stay up: after every input an
 * honest peer still gets a block from the seeder and a handshake from the leecher.
 */
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { Torrent } from '../../index.js'
import { buildMetainfo, readTree } from '../../lib/client/build-torrent.js'
import { encodeTorrentFile } from '../../lib/metainfo/create.js'
import { directoryStorage } from '../../lib/storage/factories.js'
import { encodeMessage } from '../../lib/wire/codec.js'
import type { InfoHash } from '../../lib/util/ids.js'
import { EXTENSIONS, type Message } from '../../lib/wire/messages.js'
import { writeRandomFile } from '../helpers/fixtures.js'
import { RawPeer } from '../hostile/raw-peer.js'
import { bencodeBytes } from './inputs.js'
import type { Budget, FuzzTarget } from './targets.js'

const SIZE = 4 * 16384 + 100
const PIECES = 5

const index = fc.oneof(fc.nat(PIECES), fc.constantFrom(2 ** 32 - 1, 2 ** 31))
const begin = fc.oneof(fc.constantFrom(0, 16384, 8, 100, 2 ** 32 - 1), fc.nat(40_000))
const length = fc.constantFrom(0, 1, 100, 16384, 16385, 131072, 2 ** 32 - 1)

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.constantFrom<Message>({ type: 'keep-alive' }, { type: 'choke' }, { type: 'unchoke' }, { type: 'interested' },
    { type: 'not-interested' }, { type: 'have-all' }, { type: 'have-none' }),
  fc.record({ type: fc.constantFrom('have' as const, 'suggest' as const, 'allowed-fast' as const), index }, { noNullPrototype: true }),
  fc.record({ type: fc.constantFrom('request' as const, 'cancel' as const, 'reject' as const), index, begin, length }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('piece' as const), index, begin, block: fc.constantFrom(0, 1, 100, 16384).map((n) => Buffer.alloc(n, 7)) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('bitfield' as const), bitfield: fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Buffer.from(b)) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('port' as const), port: fc.nat(65535) }, { noNullPrototype: true }),
  fc.record({
    type: fc.constant('extended' as const),
    id: fc.constantFrom(0, EXTENSIONS.ut_metadata, EXTENSIONS.ut_pex, EXTENSIONS.lt_donthave, EXTENSIONS.ut_holepunch, EXTENSIONS.upload_only, 99),
    payload: bencodeBytes()
  }, { noNullPrototype: true })
)

const script = fc.record({
  toSeeder: fc.boolean(),
  bytes: fc.array(fc.oneof({ weight: 9, arbitrary: message.map(encodeMessage) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)) }), { maxLength: 40 })
})

/** The seeder answers an honest request for piece 0. */
async function seederServes (port: number, infoHash: InfoHash): Promise<void> {
  const peer = await RawPeer.dial(port, { infoHash })
  try {
    const unchoked = peer.next((f) => f.type === 'unchoke', 10_000)
    peer.send({ type: 'interested' })
    await unchoked
    const piece = peer.next((f) => f.type === 'piece', 10_000)
    peer.send({ type: 'request', index: 0, begin: 0, length: 16384 })
    await piece
  } finally {
    peer.destroy()
  }
}

export const swarmTarget: FuzzTarget = {
  name: 'swarm/peerMessages',
  async check (budget: Budget): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-fuzz-'))
    const clients = [0, 1].map(() => new Torrent({ dht: false, lsd: false, pex: false, host: '127.0.0.1' }))
    const [seeder, leecher] = clients as [Torrent, Torrent]
    try {
      const file = path.join(dir, 'data.bin')
      await writeRandomFile(file, SIZE)
      await Promise.all(clients.map((c) => c.start()))
      await seeder.seed(file)
      const meta = await buildMetainfo(await readTree(file), directoryStorage(dir))
      await leecher.lookup(encodeTorrentFile(meta), { download: 'all' })
      const infoHash = meta.infoHash
      await fc.assert(fc.asyncProperty(script, async ({ toSeeder, bytes }) => {
        const peer = await RawPeer.dial(toSeeder ? seeder.port : leecher.port, { infoHash })
        for (const b of bytes) peer.sendRaw(b)
        // Give the client the time to read and act on all of it, or to hang up.
        await peer.waitClosed(20).catch(() => {})
        peer.destroy()
        await seederServes(seeder.port, infoHash)
        const probe = await RawPeer.dial(leecher.port, { infoHash })
        probe.destroy()
      }), { numRuns: budget.numRuns, interruptAfterTimeLimit: budget.timeLimit, markInterruptAsFailure: false })
    } finally {
      await Promise.all(clients.map((c) => c.stop()))
      await fs.rm(dir, { recursive: true, force: true })
    }
  }
}
