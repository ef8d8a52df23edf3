import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { loopbackNamespace, NETNS_MISSING } from '../helpers/netns.js'
import { startJsonChild, type JsonChild } from '../helpers/json-child.js'

const CHILD = fileURLToPath(new URL('./lsd-child.js', import.meta.url))
const STEP_MS = 30_000
const run = promisify(execFile)

/** Drops the namespace's IPv4 multicast route and adds a veth pair whose ends hold fd15::1 and
 *  fd15::2 (nodad: usable at once); the pair goes with the namespace. */
async function ipv6OnlyVeth (ns: string): Promise<void> {
  const ip = (...args: string[]): Promise<unknown> => run('ip', ['-n', ns, ...args])
  await ip('route', 'del', '224.0.0.0/4', 'dev', 'lo')
  await ip('link', 'add', 'tl6a', 'type', 'veth', 'peer', 'name', 'tl6b')
  for (const [dev, addr] of [['tl6a', 'fd15::1/64'], ['tl6b', 'fd15::2/64']] as const) {
    await ip('link', 'set', dev, 'up')
    await ip('addr', 'add', addr, 'dev', dev, 'nodad')
  }
}

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

// IPv6 multicast does not loop back over lo, so this namespace has a veth pair with ULA addresses
// (and no IPv4 address or route at all): LSD can only work through [ff15::efc0:988f]:6771.
test('over IPv6 only, two clients find each other through the BEP14 IPv6 group', async (t) => {
  const ns = await loopbackNamespace(t, 'lsd6')
  if (ns === null) {
    t.skip(NETNS_MISSING)
    return
  }
  await ipv6OnlyVeth(ns)
  const env = { ...process.env, LSD_FAMILY: '6' }
  const start = (args: string[]): JsonChild => startJsonChild(t, args[0]!, process.execPath, [CHILD, ...args], { netns: ns, env })
  const content = randomBytes(20_000).toString('hex')
  const seeder = start(['seed', content])
  const { magnet } = await seeder.next<{ magnet: string, port: number }>('its magnet link', STEP_MS)
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
  const getter = start(['get', infoHash])
  const got = await getter.next<{ content: string, peers: string[] }>('the content', STEP_MS)
  assert.equal(got.content, content)
  assert.equal(got.peers.length, 1, `one peer: ${got.peers.join(', ')}`)
  assert.match(got.peers[0]!, /^\[fd15::[12]\]:\d+$/, 'the seeder was found at its IPv6 address')
})
