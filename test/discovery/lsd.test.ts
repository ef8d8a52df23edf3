import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { loopbackNamespace, NETNS_MISSING } from '../helpers/netns.js'
import { startJsonChild, type JsonChild } from '../helpers/json-child.js'

const CHILD = fileURLToPath(new URL('./lsd-child.js', import.meta.url))
const STEP_MS = 30_000

// LSD multicasts, and in the root network namespace the multicast route leaves the machine: these
// tests run only inside a namespace of their own, whose only interface is its loopback.
test('two clients find each other by LSD alone; a third announcing another infohash is not connected to it', async (t) => {
  const ns = await loopbackNamespace(t, 'lsd')
  if (ns === null) {
    t.skip(NETNS_MISSING)
    return
  }
  const start = (args: string[]): JsonChild => startJsonChild(t, args[0]!, process.execPath, [CHILD, ...args], { netns: ns })

  const content = randomBytes(50_000).toString('hex')
  const seeder = start(['seed', content])
  const { magnet, port } = await seeder.next<{ magnet: string, port: number }>('its magnet link', STEP_MS)
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!

  const getter = start(['get', infoHash])
  const got = await getter.next<{ content: string, peers: string[] }>('the content', STEP_MS)
  assert.equal(got.content, content)
  assert.ok(got.peers.length === 1, `the getter has only the seeder as a peer: ${got.peers.join(', ')}`)

  // The probe announces another infohash on its first port, then ours on its second. The seeder
  // reads them in order, so once it dials the second port it has read, and ignored, the first.
  const other = randomBytes(20).toString('hex')
  const probe = start(['probe', other, infoHash])
  await probe.next('its ports', STEP_MS)
  probe.send('announce')
  let report: { first: string[], second: string[] } = { first: [], second: [] }
  for (let i = 0; i < 300 && report.second.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    probe.send('report')
    report = await probe.next<typeof report>('a report', STEP_MS)
  }
  assert.deepEqual(report.second, [infoHash], 'the seeder dialled the peer that announced its infohash')
  assert.deepEqual(report.first, [], 'nobody dialled the peer that announced only another infohash')
  assert.ok(port > 0)
})
