import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import DHT from 'bittorrent-dht'
import { DhtDiscovery } from '../../lib/discovery/dht.js'
import { joinNode, closeAll } from '../helpers/dht-network.js'
import { krpcSocket } from '../helpers/krpc.js'
import { keypair, sign } from '../../lib/util/ed25519.js'

/** bittorrent-dht's store held 1,000 items of either kind: one more round than that. */
const FLOOD = 1100

test('a flood of valid immutable puts does not evict a stored mutable item', async (t) => {
  const node = new DhtDiscovery({ bootstrap: [], port: 0, host: '127.0.0.1', peerPort: 7001, onPeer: () => {} })
  t.after(() => node.close())
  const port = await node.start()
  const writer: DHT = await joinNode(`127.0.0.1:${port}`, { bootstrap: [`127.0.0.1:${port}`] })
  t.after(() => closeAll([writer]))

  const { publicKey, secretKey } = keypair()
  const v = { ih: randomBytes(20) }
  const target = await new Promise<Buffer>((resolve, reject) => writer.put({ k: publicKey, seq: 1, v, sign: (m) => sign(m, secretKey) }, (err, hash, n) => {
    if (err !== null || n < 1) reject(err ?? new Error('stored nowhere')); else resolve(hash)
  }))

  const raw = await krpcSocket()
  t.after(() => raw.close())
  const id = randomBytes(20)
  const first = await raw.query(port, 'get', { id, target: randomBytes(20) })
  const token = first?.token
  assert.ok(token instanceof Uint8Array)
  for (let i = 0; i < FLOOD; i++) {
    const reply = await raw.query(port, 'put', { id, token, v: Buffer.from(`immutable item ${i}`) })
    assert.ok(reply !== null && reply.id instanceof Uint8Array, `put ${i} answered`)
  }

  const got = await raw.query(port, 'get', { id, target })
  assert.ok(got?.v !== undefined, 'the mutable item is still served')
  assert.deepEqual(Buffer.from((got.v as { ih: Uint8Array }).ih), v.ih)
  assert.equal(got.seq, 1)
})
