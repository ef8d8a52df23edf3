import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { netLab, NETLAB_MISSING } from '../helpers/netlab.js'
import { startJsonChild } from '../helpers/json-child.js'

const probe = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/lab-probe.js')
/** Long enough for a SYN and its answer on a veth (microseconds), short enough to keep the test fast. */
const DROP_WAIT_MS = 1500

test('NAT lab: a host at home reaches the public segment from the router\'s address; unsolicited inbound is dropped silently', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const server = await lab.publicHost('server')
  const home = await lab.home('home')

  const listener = startJsonChild(t, 'public listener', process.execPath, [probe, 'listen', '7000'], { netns: server.ns })
  await listener.next('listening', 5000)
  const out = startJsonChild(t, 'home dialler', process.execPath, [probe, 'connect', server.address, '7000', '5000'], { netns: home.host.ns })
  assert.equal((await out.next<{ connected?: string }>('connect', 6000)).connected?.split(':')[0], home.host.address)
  const seen = await listener.next<{ accepted: string }>('accept', 5000)
  assert.equal(seen.accepted.split(':')[0], home.router.address, 'the router masquerades: the public host sees its WAN address')

  const inside = startJsonChild(t, 'home listener', process.execPath, [probe, 'listen', '7001'], { netns: home.host.ns })
  await inside.next('listening', 5000)
  const probeIn = startJsonChild(t, 'inbound probe', process.execPath, [probe, 'connect', home.router.address, '7001', String(DROP_WAIT_MS)], { netns: server.ns })
  assert.deepEqual(await probeIn.next('probe result', DROP_WAIT_MS + 5000), { error: 'ETIMEDOUT' }, 'dropped: no answer at all, not a reset')
  assert.equal(await home.mappedIn(), 0)
})
