/**
 * A PortMapper in its own process, for the NAT lab: maps TCP port argv[2] by the methods in argv[3]
 * ("upnp", "nat-pmp" or "upnp,nat-pmp"), prints every {"map"} and {"fail"} event, and on any line
 * on stdin stops (deleting its mappings) and prints {"stopped":true}.
 */
import { createInterface } from 'node:readline'
import { PortMapper, type MappingMethod } from '../../lib/nat/port-mapper.js'

const port = Number(process.argv[2])
const methods = (process.argv[3] ?? 'upnp').split(',') as MappingMethod[]
const print = (o: object): void => { console.log(JSON.stringify(o)) }
const mapper = new PortMapper({ methods })
mapper.on('map', (m) => print({ map: m }))
mapper.on('fail', (err) => print({ fail: { code: err.code, message: err.message } }))
void mapper.start([{ protocol: 'tcp', port }])
for await (const _line of createInterface({ input: process.stdin })) {
  await mapper.stop()
  print({ stopped: true })
  break
}
