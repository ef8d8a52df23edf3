/** A DHT bootstrap node on the NAT lab's public segment, for the lab tests that find peers by the DHT. */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import type { NetLab } from './netlab.js'
import { startJsonChild } from './json-child.js'

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dht-bootstrap-child.js')

/** Starts a DHT node on a new public host of `lab`; resolves with its "host:port", within `ms`. */
export async function labBootstrapNode (t: TestContext, lab: NetLab, ms: number): Promise<string> {
  const host = await lab.publicHost('dht')
  const node = startJsonChild(t, 'DHT bootstrap node', process.execPath, [child, host.address, '0'], { netns: host.ns })
  const { port } = await node.next<{ port: number }>('port', ms)
  return `${host.address}:${port}`
}
