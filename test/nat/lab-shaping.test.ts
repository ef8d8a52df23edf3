import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { withLab, NETLAB_MISSING, type LabHost } from '../helpers/netlab.js'
import { startJsonChild } from '../helpers/json-child.js'
import type { TestContext } from 'node:test'

const run = promisify(execFile)
const DATAGRAMS = 50
const SIZE = 1000
/** Fits in every shaper's queue below (rate × latency + burst), so none is dropped. */
const SENT = DATAGRAMS * SIZE

/** Sends the datagrams from `from` to `to` (no one listens: they still cross both links). */
async function blast (t: TestContext, from: LabHost, to: LabHost): Promise<void> {
  const script = `const s = require('node:dgram').createSocket('udp4'); let n = 0;
    const next = () => { if (n++ === ${DATAGRAMS}) { console.log('{"sent":true}'); s.close(); return } s.send(Buffer.alloc(${SIZE}), 9, process.argv[1], next) }; next()`
  const child = startJsonChild(t, 'datagrams', process.execPath, ['-e', script, to.address], { netns: from.ns })
  await child.next('sent', 5000)
}

async function namespaces (id: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list'])
  return stdout.split('\n').filter((line) => line.startsWith(`${id}-`))
}

async function qdisc (ns: string, dev: string): Promise<string> {
  return (await run('tc', ['-n', ns, 'qdisc', 'show', 'dev', dev])).stdout
}

test('NAT lab: withLab shapes a public host\'s uplink and downlink, counts what crosses them, and deletes its namespaces when fn returns or throws', async (t) => {
  const outcome = await withLab(async (l) => {
    const a = await l.publicHost('a', { up: '20mbit' })
    const b = await l.publicHost('b', { down: { rate: '30mbit', latency: '50ms' } })
    assert.match(await qdisc(a.ns, 'eth0'), /tbf .*rate 20Mbit/)
    assert.equal(await l.shaper(a, 'down'), null, 'a\'s downlink is not shaped')
    assert.equal(await l.shaper(b, 'up'), null, 'b\'s uplink is not shaped')
    const [up0, down0, link0] = [await l.shaper(a, 'up'), await l.shaper(b, 'down'), await l.counters(a)]
    await blast(t, a, b)
    const [up1, down1, link1] = [await l.shaper(a, 'up'), await l.shaper(b, 'down'), await l.counters(a)]
    assert.ok(up0 !== null && up1 !== null && down0 !== null && down1 !== null)
    assert.ok(up1.sentBytes - up0.sentBytes >= SENT, `a's uplink shaper sent ${up1.sentBytes - up0.sentBytes} of ${SENT} bytes`)
    assert.ok(down1.sentBytes - down0.sentBytes >= SENT, `b's downlink shaper sent ${down1.sentBytes - down0.sentBytes} of ${SENT} bytes`)
    assert.equal(down1.drops, 0)
    assert.ok(link1.txBytes - link0.txBytes >= SENT && link1.txPackets - link0.txPackets >= DATAGRAMS)
    return l.id
  })
  if (outcome === null) { t.skip(NETLAB_MISSING); return }
  assert.deepEqual(await namespaces(outcome), [], 'every namespace of the lab is gone')

  let id = ''
  await assert.rejects(withLab(async (l) => {
    id = l.id
    await l.publicHost('c')
    assert.equal((await namespaces(id)).length, 2, 'the public segment and the host')
    throw new Error('fn failed')
  }), /fn failed/)
  assert.deepEqual(await namespaces(id), [], 'torn down after fn threw too')
})
