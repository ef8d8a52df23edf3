import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { netLab, NETLAB_MISSING } from '../helpers/netlab.js'
import { startJsonChild } from '../helpers/json-child.js'

const helpers = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers')
const probe = path.join(helpers, 'lab-probe.js')
const mapChild = path.join(helpers, 'nat-map-child.js')
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

test('NAT lab: a port mapped by UPnP IGD on miniupnpd lets a public host in, and is gone from the router once the mapper stops', async (t) => {
  const lab = await netLab(t)
  if (lab === null) { t.skip(NETLAB_MISSING); return }
  const outside = await lab.publicHost('outside')
  // Shaped too, so that the lab's tc tbf option runs somewhere in the suite.
  const home = await lab.home('home', { miniupnpd: true, rate: '50mbit' })
  const inside = startJsonChild(t, 'home listener', process.execPath, [probe, 'listen', '7003'], { netns: home.host.ns })
  await inside.next('listening', 5000)

  const mapper = startJsonChild(t, 'UPnP mapper', process.execPath, [mapChild, '7003', 'upnp'], { netns: home.host.ns })
  const mapped = await mapper.next<{ map?: { method: string, externalAddress: string, externalPort: number, internalPort: number } }>('mapping', 10_000)
  assert.deepEqual(mapped.map && [mapped.map.method, mapped.map.externalAddress, mapped.map.externalPort], ['upnp', home.router.address, 7003], JSON.stringify(mapped))
  assert.equal((await home.forwards()).length, 1)

  const dial = startJsonChild(t, 'dial through the mapping', process.execPath, [probe, 'connect', home.router.address, '7003', '5000'], { netns: outside.ns })
  assert.ok('connected' in await dial.next<object>('connect', 6000))
  assert.equal((await inside.next<{ accepted: string }>('accept', 5000)).accepted.split(':')[0], outside.address)
  assert.equal(await home.mappedIn(), 1)

  mapper.send('stop')
  await mapper.next('stopped', 5000)
  assert.deepEqual(await home.forwards(), [])
  const after = startJsonChild(t, 'probe after unmapping', process.execPath, [probe, 'connect', home.router.address, '7003', String(DROP_WAIT_MS)], { netns: outside.ns })
  assert.deepEqual(await after.next('probe result', DROP_WAIT_MS + 5000), { error: 'ETIMEDOUT' })
})

for (const method of ['pcp', 'nat-pmp'] as const) {
  test(`NAT lab: miniupnpd maps a port asked for by ${method === 'pcp' ? 'PCP' : 'NAT-PMP'} alone, and deletes it when the mapper stops`, async (t) => {
    const lab = await netLab(t)
    if (lab === null) { t.skip(NETLAB_MISSING); return }
    const home = await lab.home('home', { miniupnpd: true })
    const mapper = startJsonChild(t, `${method} mapper`, process.execPath, [mapChild, '7004', method], { netns: home.host.ns })
    const mapped = await mapper.next<{ map?: { method: string, externalAddress: string, externalPort: number } }>('mapping', 10_000)
    assert.deepEqual(mapped.map && [mapped.map.method, mapped.map.externalAddress, mapped.map.externalPort], [method, home.router.address, 7004], JSON.stringify(mapped))
    assert.deepEqual((await home.forwards()).map((rule) => /dnat ip to (\S+)/.exec(rule)?.[1]), [`${home.host.address}:7004`])
    mapper.send('stop')
    await mapper.next('stopped', 5000)
    assert.deepEqual(await home.forwards(), [])
  })
}
