import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Torrent, Archive, createKeypair } from '../../index.js'
import { dhtNetwork } from '../helpers/dht-network.js'
import { once } from '../helpers/fixtures.js'

const MiB = 1024 * 1024

async function draft (text: string): Promise<Archive> {
  const archive = new Archive()
  await archive.writeFile('/index.html', text)
  return archive
}

test('a mutable archive keeps its torrent limits when it moves to the next version', async (t) => {
  const net = await dhtNetwork(10)
  t.after(net.close)
  const [publisher, reader] = [0, 1].map(() => new Torrent({ dht: [net.bootstrap], lsd: false, host: '127.0.0.1' })) as [Torrent, Torrent]
  t.after(() => Promise.all([publisher.stop(), reader.stop()]))
  await Promise.all([publisher.start(), reader.start()])
  const { publicKey, privateKey } = await createKeypair()
  const link = await publisher.publish(await publisher.seed(await draft('v1'), { pad: true }), publicKey, privateKey)

  const archive = await reader.lookup(link, { updateInterval: 100, timeout: 10_000, downloadLimit: 8 * MiB })
  archive.setLimits({ uploadLimit: 4 * MiB })
  await publisher.publish(await publisher.seed(await draft('v2'), { pad: true }), publicKey, privateKey)
  await once(archive, 'update', 20_000)
  assert.deepEqual(archive.limits, { downloadLimit: 8 * MiB, uploadLimit: 4 * MiB })
  assert.equal(await archive.readFile('/index.html', 'utf8'), 'v2')
  await archive.close()
})
