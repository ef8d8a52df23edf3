import DHT from 'bittorrent-dht'

/** A local DHT for benchmarks (never the public one): a bootstrap node and `count - 1` others on 127.0.0.1 joined through it. */
export async function loopbackDht (count: number): Promise<{ nodes: DHT[], bootstrap: string, port: number }> {
  const first = new DHT({ bootstrap: false })
  const port = await listen(first)
  const bootstrap = `127.0.0.1:${port}`
  const nodes = [first]
  for (let i = 1; i < count; i++) {
    const node = new DHT({ bootstrap: [bootstrap] })
    await listen(node)
    await new Promise<void>((resolve) => node.once('ready', () => resolve()))
    nodes.push(node)
  }
  return { nodes, bootstrap, port }
}

async function listen (dht: DHT): Promise<number> {
  return new Promise((resolve) => dht.listen(0, '127.0.0.1', () => resolve(dht.address().port)))
}
