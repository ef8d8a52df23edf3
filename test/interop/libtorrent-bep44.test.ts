import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type DHT from 'bittorrent-dht'
import type { DhtValue } from 'bittorrent-dht'
import { Archive, createKeypair } from '../../index.js'
import { resolveMutable } from '../../lib/mutable/resolve.js'
import { signedData, targetOf } from '../../lib/mutable/item.js'
import { sign, verify } from '../../lib/mutable/keys.js'
import { dhtNetwork, joinNode, closeAll } from '../helpers/dht-network.js'
import { STEP_MS, localClient } from './fixtures.js'
import { libtorrentMissing, startLtPeer } from './lt-peer.js'

const skip = libtorrentMissing()
const LT_LIMIT_S = 30
/** BEP44 asks for at least 8 nodes to store an item; a few more make the swarm look like one. */
const DHT_NODES = 10

interface LtItem { seq: number, signature: string, rendered: string }
interface LtPut { seq: number, successes: number }

/** The item under the key as one of our DHT nodes gets it from the others, signature checked here. */
function readItem (node: DHT, publicKey: Buffer, salt?: Buffer): Promise<DhtValue & { seq: number, sig: Buffer }> {
  return new Promise((resolve, reject) => {
    node.get(targetOf(publicKey, salt), { ...(salt !== undefined ? { salt } : {}), cache: false }, (err, item) => {
      if (err !== null) return reject(err)
      if (item === null || item === undefined || typeof item.seq !== 'number' || item.sig === undefined) return reject(new Error('no mutable item under the key'))
      const genuine = verify(item.sig, signedData({ seq: item.seq, v: item.v, ...(salt !== undefined ? { salt } : {}) }), publicKey)
      if (!genuine) return reject(new Error('the item\'s signature does not hold'))
      resolve(item as DhtValue & { seq: number, sig: Buffer })
    })
  })
}

async function seedText (client: Awaited<ReturnType<typeof localClient>>, text: string): Promise<string> {
  const draft = new Archive()
  await draft.writeFile('/index.html', text)
  return await client.seed(draft)
}

function infoHashOf (magnet: string): string {
  return /btih:([0-9a-f]{40})/.exec(magnet)![1]!
}

/**
 * libtorrent got our { ih } pointer at `seq`: it reports only items whose signature holds, and
 * ed25519 signatures are deterministic, so the one we would make for that value is the one it has.
 */
function assertLtHolds (got: LtItem, seq: number, magnet: string, privateKey: Buffer, salt: Buffer): void {
  assert.equal(got.seq, seq)
  const ih = Buffer.from(infoHashOf(magnet), 'hex')
  assert.equal(got.signature, sign(signedData({ seq, v: { ih }, salt }), privateKey).toString('hex'), 'libtorrent holds another value')
  assert.match(got.rendered, new RegExp(`'ih': '${infoHashOf(magnet)}'`))
}

test('BEP44 both ways: libtorrent reads the { ih } we publish, we verify the item it puts under the same key, and the seq goes on across both', { skip }, async (t) => {
  const net = await dhtNetwork(DHT_NODES)
  t.after(net.close)
  const publisher = await localClient(t, undefined, [net.bootstrap])
  const seed = randomBytes(32)
  const { publicKey, privateKey } = await createKeypair(seed)
  const salt = Buffer.from('site')
  const key = publicKey.toString('hex')
  const ltArgs = ['--dht', net.bootstrap, '--salt', salt.toString('hex')]

  const v1 = await seedText(publisher, '<h1>v1</h1>')
  const link = await publisher.publish(v1, publicKey, privateKey, { salt })
  const read1 = await startLtPeer(t, ['dht-get', key, ...ltArgs], LT_LIMIT_S).next<LtItem>('item', STEP_MS)
  assertLtHolds(read1, 1, v1, privateKey, salt)

  // libtorrent signs with the expanded secret key it derives from the same seed, and takes the
  // seq one above ours. Its binding puts only strings: not a BEP46 pointer, but a signed item.
  const text = 'a libtorrent note'
  const put = await startLtPeer(t, ['dht-put', key, seed.toString('hex'), text, ...ltArgs], LT_LIMIT_S).next<LtPut>('put', STEP_MS)
  assert.equal(put.seq, 2)
  const reader = await joinNode(net.bootstrap)
  t.after(() => closeAll([reader]))
  const item = await readItem(reader, publicKey, salt)
  assert.equal(item.seq, 2)
  assert.equal(Buffer.from(item.v as Uint8Array).toString(), text)
  await assert.rejects(resolveMutable(reader, publicKey, salt), { code: 'EBADTORRENT' }, 'a genuine item that is not { ih } is not a torrent')
  const other = await localClient(t, undefined, [net.bootstrap])
  await assert.rejects(other.lookup(link, { timeout: STEP_MS }), { code: 'EBADTORRENT' })

  // Our next version must go above libtorrent's seq, though its value was not one of ours.
  const v2 = await seedText(publisher, '<h1>v2</h1>')
  assert.equal(await publisher.publish(v2, publicKey, privateKey, { salt }), link)
  const read3 = await startLtPeer(t, ['dht-get', key, ...ltArgs, '--min-seq', '3'], LT_LIMIT_S).next<LtItem>('item with seq 3', STEP_MS)
  assertLtHolds(read3, 3, v2, privateKey, salt)
  assert.equal(await (await other.lookup(link, { timeout: STEP_MS })).readFile('/index.html', 'utf8'), '<h1>v2</h1>')
})
