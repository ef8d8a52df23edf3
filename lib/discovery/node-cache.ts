import fs from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import type { DhtFamily } from './dht-family.js'

export interface CachedNode { id: Buffer, host: string, port: number }

/** A file per family (BEP32: two DHTs); the IPv4 one keeps the name it had before IPv6. */
const FILES = { 4: 'dht-nodes.json', 6: 'dht-nodes6.json' } as const
/** Enough to rejoin the DHT; a routing table holds a few hundred at most. */
export const MAX_CACHED_NODES = 200
const MAX_FILE = 64 * 1024

/**
 * Reads the DHT nodes saved by the last run from `stateDir`. A missing, unreadable or malformed
 * file gives an empty list (the cache is a hint, never a reason not to start); invalid entries
 * are skipped.
 */
export async function loadNodes (stateDir: string, family: DhtFamily = 4): Promise<CachedNode[]> {
  let data: unknown
  try {
    const file = path.join(stateDir, FILES[family])
    const stat = await fs.stat(file)
    if (stat.size > MAX_FILE) return []
    data = JSON.parse(await fs.readFile(file, 'utf8'))
  } catch {
    return []
  }
  const list = typeof data === 'object' && data !== null && Array.isArray((data as { nodes?: unknown }).nodes)
    ? (data as { nodes: unknown[] }).nodes
    : []
  const nodes: CachedNode[] = []
  for (const item of list.slice(0, MAX_CACHED_NODES)) {
    if (typeof item !== 'object' || item === null) continue
    const { id, host, port } = item as Record<string, unknown>
    if (typeof id !== 'string' || !/^[0-9a-f]{40}$/.test(id)) continue
    if (typeof host !== 'string' || net.isIP(host) !== family) continue
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) continue
    nodes.push({ id: Buffer.from(id, 'hex'), host, port })
  }
  return nodes
}

/** Saves up to MAX_CACHED_NODES nodes, most recently seen first, replacing the file atomically. */
export async function saveNodes (stateDir: string, nodes: ReadonlyArray<CachedNode & { seen?: number }>, family: DhtFamily = 4): Promise<void> {
  const best = [...nodes].sort((a, b) => (b.seen ?? 0) - (a.seen ?? 0)).slice(0, MAX_CACHED_NODES)
  const json = JSON.stringify({ nodes: best.map((n) => ({ id: n.id.toString('hex'), host: n.host, port: n.port })) })
  await fs.mkdir(stateDir, { recursive: true })
  const file = path.join(stateDir, FILES[family])
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, json)
  await fs.rename(tmp, file)
}
