/**
 * Encryption with libtorrent in each of its policies (LT_PEER_ENC: pe_forced with RC4 alone,
 * pe_enabled, pe_disabled, both ways), in both directions: we download from a libtorrent seed,
 * dialling it under each of our policies, and libtorrent downloads from our seed. One small
 * torrent; one libtorrent seed per policy, shared by the downloads from it.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import path from 'node:path'
import { tmpDir, writeRandomFile } from '../helpers/fixtures.js'
import { STEP_MS, downloaded, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer, startLtSeeder } from './lt-peer.js'
import { Dialler } from '../../lib/client/dialler.js'
import { TcpTransport } from '../../lib/transport/tcp.js'
import type { EncryptionPolicy } from '../../index.js'
import { TrackerlessError } from '../../lib/errors.js'
import { asInfoHash, asPeerId } from '../../lib/util/ids.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 60
const SIZE = 300 * 1024 + 11

type LtPolicy = 'forced' | 'enabled' | 'disabled'

/** Our policies that reach a libtorrent peer in each of its own, and the one that cannot. */
const REACHES: Record<LtPolicy, { ok: EncryptionPolicy[], refused: EncryptionPolicy | null }> = {
  forced: { ok: ['prefer', 'allow', 'require'], refused: 'disable' },
  enabled: { ok: ['prefer', 'allow', 'require', 'disable'], refused: null },
  disabled: { ok: ['prefer', 'allow', 'disable'], refused: 'require' }
}

async function sourceFile (t: TestContext): Promise<{ dir: string, file: string }> {
  const dir = await tmpDir(t)
  const file = path.join(dir, 'src', 'data.bin')
  await writeRandomFile(file, SIZE)
  return { dir, file }
}

for (const lt of ['forced', 'enabled', 'disabled'] as const) {
  test(`libtorrent seeds with pe_${lt}; we download from it under ${REACHES[lt].ok.join(', ')}`, { skip }, async (t) => {
    const { dir, file } = await sourceFile(t)
    const seed = await startLtSeeder(t, path.dirname(file), file, LT_LIMIT_S, { env: { LT_PEER_ENC: lt } })
    const want = await fs.readFile(file)
    for (const encryption of REACHES[lt].ok) {
      await t.test(`encryption '${encryption}'`, async (t) => {
        const out = path.join(dir, `out-${encryption}`)
        const leecher = await localClient(t, out, false, { encryption, utp: false })
        const archive = await leecher.lookup(seed.magnet, { download: 'all', peers: [`127.0.0.1:${seed.port}`], timeout: STEP_MS })
        await downloaded(archive)
        assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(want), 'data.bin differs')
      })
    }
    const refused = REACHES[lt].refused
    if (refused !== null) {
      await t.test(`encryption '${refused}' cannot reach it, and says why`, async () => {
        const dialler = new Dialler([new TcpTransport()], refused)
        const wire = dialler.dial('127.0.0.1', seed.port, { peerId: asPeerId(Buffer.alloc(20, 4)), connectTimeout: 5000 })
        wire.sendHandshake(asInfoHash(Buffer.from(seed.infoHash, 'hex')))
        const outcome = await new Promise<Error | undefined | 'handshake'>((resolve) => {
          wire.once('handshake', () => resolve('handshake'))
          wire.once('close', (err?: Error) => resolve(err))
        })
        wire.destroy()
        assert.notEqual(outcome, 'handshake')
        if (refused === 'require') {
          assert.ok(outcome instanceof TrackerlessError, `no reason: ${String(outcome)}`)
          assert.match(outcome.message, /did not complete the encryption handshake \(the peer closed the connection during the encryption handshake\); it may not support encryption, which encryption 'require' insists on: use 'prefer'/)
        }
      })
    }
  })
}

for (const [lt, ours, reached] of [
  ['enabled', 'prefer', true],
  ['disabled', 'prefer', true],
  ['enabled', 'require', true],
  ['disabled', 'require', false]
] as const) {
  test(`we seed under '${ours}'; libtorrent with pe_${lt} ${reached ? 'downloads from us' : 'cannot download'}`, { skip }, async (t) => {
    const { dir, file } = await sourceFile(t)
    const seeder = await localClient(t, undefined, false, { encryption: ours })
    const magnet = await seeder.seed(file)
    const out = path.join(dir, 'out')
    const peer = startLtPeer(t, ['download', magnet, out, `127.0.0.1:${seeder.port}`], reached ? LT_LIMIT_S : 3, { env: { LT_PEER_ENC: lt } })
    if (!reached) {
      await assert.rejects(peer.next('finished download', STEP_MS))
      return
    }
    await peer.next('finished download', STEP_MS)
    assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  })
}

test('over uTP: libtorrent seeds uTP-only with pe_forced; we download from it under \'prefer\', and it downloads from us', { skip }, async (t) => {
  const { dir, file } = await sourceFile(t)
  const seed = await startLtSeeder(t, path.dirname(file), file, LT_LIMIT_S, { env: { LT_PEER_ENC: 'forced' }, seed: ['--utp-only'] })
  const out = path.join(dir, 'out')
  const leecher = await localClient(t, out, false, { tcp: false })
  const archive = await leecher.lookup(seed.magnet, { download: 'all', peers: [`127.0.0.1:${seed.port}`], timeout: STEP_MS })
  await downloaded(archive)
  assert.ok((await fs.readFile(path.join(out, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
  const again = path.join(dir, 'again')
  await startLtPeer(t, ['download', seed.magnet, again, `127.0.0.1:${leecher.port}`, '--utp-only'], LT_LIMIT_S, { env: { LT_PEER_ENC: 'forced' } })
    .next('finished download', STEP_MS)
  assert.ok((await fs.readFile(path.join(again, 'data.bin'))).equals(await fs.readFile(file)), 'data.bin differs')
})
