/**
 * A bittorrent-dht node that others join through, for tests whose clients run in other
 * processes or namespaces: binds argv[2] (host) on argv[3] (port, 0: any), prints {"port"},
 * exits when stdin closes.
 */
import DHT from 'bittorrent-dht'
import { verify, loadEd25519 } from '../../lib/mutable/keys.js'
import { bep42NodeId } from '../../lib/discovery/bep42.js'

const [host, port] = process.argv.slice(2) as [string, string]
await loadEd25519()
// A BEP42 id for its address: our clients ignore a node outside private space without one.
const nodeId = bep42NodeId(host)
const node = new DHT({ bootstrap: false, host, verify, ...(nodeId !== null ? { nodeId } : {}) })
node.listen(Number(port), host, () => console.log(JSON.stringify({ port: node.address().port })))
process.stdin.resume().on('end', () => node.destroy())
