import DHT, { type DhtOptions } from 'bittorrent-dht'
import { verify, loadEd25519 } from '../../lib/mutable/keys.js'

/**
 * A DHT of `size` bittorrent-dht nodes on 127.0.0.1: the first is the bootstrap node that every
 * other one joins through. Nodes check BEP44 signatures unless `options.verify` says otherwise.
 */
export async function dhtNetwork (size: number, options: DhtOptions = {}): Promise<{ nodes: DHT[], bootstrap: string, close: () => Promise<void> }> {
  await loadEd25519()
  const first = await listening(new DHT({ bootstrap: false, host: '127.0.0.1', verify, ...options }))
  const bootstrap = `127.0.0.1:${first.address().port}`
  const rest = await Promise.all(Array.from({ length: size - 1 }, () => listening(new DHT({ bootstrap: [bootstrap], host: '127.0.0.1', verify, ...options }))))
  const nodes = [first, ...rest]
  await Promise.all(rest.map((node) => node.ready === true ? undefined : new Promise<void>((resolve) => node.once('ready', () => resolve()))))
  return { nodes, bootstrap, close: () => closeAll(nodes) }
}

/** One more node that joins through `bootstrap`, ready. */
export async function joinNode (bootstrap: string, options: DhtOptions = {}): Promise<DHT> {
  await loadEd25519()
  const node = await listening(new DHT({ bootstrap: [bootstrap], host: '127.0.0.1', verify, ...options }))
  if (node.ready !== true) await new Promise<void>((resolve) => node.once('ready', () => resolve()))
  return node
}

export function closeAll (nodes: DHT[]): Promise<void> {
  return Promise.all(nodes.map((node) => new Promise<void>((resolve) => node.destroy(() => resolve())))).then(() => undefined)
}

function listening (node: DHT): Promise<DHT> {
  return new Promise((resolve) => node.listen(0, '127.0.0.1', () => resolve(node)))
}
