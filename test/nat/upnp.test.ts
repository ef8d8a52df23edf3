import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import http from 'node:http'
import fc from 'fast-check'
import type { TestContext } from 'node:test'
import { findGateway, parseAnswer } from '../../lib/nat/ssdp.js'
import { findService, IgdClient } from '../../lib/nat/igd.js'
import { PortMapper, type PortMapping } from '../../lib/nat/port-mapper.js'

const WANIP1 = 'urn:schemas-upnp-org:service:WANIPConnection:1'
const WANIP2 = 'urn:schemas-upnp-org:service:WANIPConnection:2'

function description (services: Array<[string, string]>): string {
  return `<?xml version="1.0"?><root><device><serviceList>${services.map(([type, control]) =>
    `<service><serviceType>${type}</serviceType><controlURL>${control}</controlURL></service>`).join('')}</serviceList></device></root>`
}

/** An SSDP responder on 127.0.0.1 that answers every search with `location`. */
async function ssdpResponder (t: TestContext, location: () => string): Promise<{ address: string, port: number }> {
  const socket = dgram.createSocket('udp4')
  socket.on('message', (msg, from) => {
    if (!msg.toString().startsWith('M-SEARCH')) return
    socket.send(`HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location()}\r\n\r\n`, from.port, from.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())))
  return { address: '127.0.0.1', port: socket.address().port }
}

/** A UPnP IGD on 127.0.0.1: its description and a control URL answering `soap` (action → status, body). */
async function fakeIgd (t: TestContext, soap: (action: string, body: string) => [number, string]): Promise<{ url: string, actions: string[] }> {
  const actions: string[] = []
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') { res.end(description([[WANIP1, '/ctl']])); return }
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      const action = /#(\w+)"/.exec(String(req.headers.soapaction))?.[1] ?? ''
      actions.push(action)
      const [status, answer] = soap(action, body)
      res.writeHead(status, { 'Content-Type': 'text/xml' }).end(answer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/desc.xml`, actions }
}

const fault = (code: number, text: string): [number, string] => [500, `<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>${code}</errorCode><errorDescription>${text}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`]
const ok = (inner = ''): [number, string] => [200, `<s:Envelope><s:Body>${inner}</s:Body></s:Envelope>`]

test('SSDP answers: only a 200 with an http LOCATION counts, whatever the bytes', () => {
  assert.equal(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\nLocation: http://192.168.1.1:5000/rootDesc.xml\r\n\r\n'))?.href, 'http://192.168.1.1:5000/rootDesc.xml')
  assert.equal(parseAnswer(Buffer.from('HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n')), null)
  assert.equal(parseAnswer(Buffer.from('NOTIFY * HTTP/1.1\r\nLOCATION: http://192.168.1.1/\r\n\r\n')), null)
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const url = parseAnswer(bytes)
    assert.ok(url === null || url.protocol === 'http:')
  }), { numRuns: 2000 })
})

test('a device description: the port mapping service whose control URL is on the description\'s own host, IGD:2\'s first', () => {
  const location = new URL('http://192.168.1.1:5000/rootDesc.xml')
  assert.equal(findService(description([[WANIP1, '/ctl/IPConn']]), location)?.controlUrl.href, 'http://192.168.1.1:5000/ctl/IPConn')
  assert.equal(findService(description([[WANIP1, 'http://10.0.0.9/ctl']]), location), null, 'a control URL on another host is not followed')
  assert.equal(findService(description([[WANIP1, '/v1'], [WANIP2, '/v2']]), location)?.serviceType, WANIP2)
  assert.equal(findService(description([['urn:schemas-upnp-org:service:Layer3Forwarding:1', '/l3']]), location), null)
  fc.assert(fc.property(fc.string({ maxLength: 400 }), (xml) => {
    const service = findService(xml, location)
    assert.ok(service === null || service.controlUrl.host === location.host)
  }))
})

test('an SSDP answer naming a description on another host than the one answering is ignored', async (t) => {
  const liar = await ssdpResponder(t, () => 'http://10.9.9.9:5000/rootDesc.xml')
  assert.equal(await findGateway(600, liar), null)
  const honest = await ssdpResponder(t, () => 'http://127.0.0.1:5000/rootDesc.xml')
  assert.equal((await findGateway(600, honest))?.href, 'http://127.0.0.1:5000/rootDesc.xml')
})

test('PortMapper by UPnP: finds the router by SSDP, maps with our LAN address, falls back to a permanent lease on error 725, and deletes at stop', async (t) => {
  const igd = await fakeIgd(t, (action, body) => {
    if (action === 'GetExternalIPAddress') return ok('<u:r><NewExternalIPAddress>100.64.0.9</NewExternalIPAddress></u:r>')
    if (action === 'AddPortMapping') return /<NewLeaseDuration>0</.test(body) && /<NewInternalClient>127\.0\.0\.1</.test(body) ? ok() : fault(725, 'OnlyPermanentLeasesSupported')
    return ok()
  })
  const ssdp = await ssdpResponder(t, () => igd.url)
  const m = new PortMapper({ methods: ['upnp'], ssdp })
  t.after(() => m.stop())
  const mapped: PortMapping[] = []
  m.on('map', (x) => mapped.push(x))
  await m.start([{ protocol: 'tcp', port: 6881 }])
  assert.deepEqual(mapped.map((x) => [x.method, x.externalAddress, x.externalPort, x.lifetime]), [['upnp', '100.64.0.9', 6881, 0]])
  await m.stop()
  assert.deepEqual(igd.actions, ['GetExternalIPAddress', 'AddPortMapping', 'AddPortMapping', 'DeletePortMapping'])
})

test('a UPnP router that refuses is a \'fail\' event with its error in its own words; one that sends a huge answer is dropped', async (t) => {
  const igd = await fakeIgd(t, (action) => action === 'AddPortMapping' ? fault(718, 'ConflictInMappingEntry') : ok('<NewExternalIPAddress>100.64.0.9</NewExternalIPAddress>'))
  const m = new PortMapper({ methods: ['upnp'], ssdp: await ssdpResponder(t, () => igd.url) })
  t.after(() => m.stop())
  const failed: string[] = []
  m.on('fail', (err) => failed.push(`${err.code} ${err.message}`))
  await m.start([{ protocol: 'udp', port: 6881 }])
  assert.deepEqual(failed, ['EPORTMAP the UPnP router refused AddPortMapping: error 718, ConflictInMappingEntry'])

  const huge = await fakeIgd(t, () => ok('x'.repeat(100 * 1024)))
  await assert.rejects(IgdClient.open(new URL(huge.url)), { code: 'EPORTMAP', message: /sent more than 65536 bytes/ })
})
