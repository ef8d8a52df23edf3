/**
 * What a V8 heap snapshot holds, by kind: the self size and count of its objects grouped by
 * constructor name (objects) or node type (strings, arrays, code, ...), largest first. For the
 * scale benchmark's memory per archive (BENCH_HEAP_SNAPSHOT=<file> node dist/bench/scale-archives.js).
 *
 *   node dist/bench/heap-by-type.js <file.heapsnapshot> [top=25] [archives=1000]
 */
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[], node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

const [file, topText = '25', archivesText = '1000'] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: heap-by-type.js <file.heapsnapshot> [top] [archives]\n')
  process.exit(2)
}
const top = Number(topText)
const archives = Number(archivesText)
const heap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
const fields = heap.snapshot.meta.node_fields
const types = heap.snapshot.meta.node_types[0]
const width = fields.length
const at = { type: fields.indexOf('type'), name: fields.indexOf('name'), size: fields.indexOf('self_size') }
const groups = new Map<string, { bytes: number, count: number }>()
let total = 0
for (let i = 0; i < heap.nodes.length; i += width) {
  const type = types[heap.nodes[i + at.type]!]!
  const bytes = heap.nodes[i + at.size]!
  // Objects by their constructor; everything else (strings, arrays, code, closures) by type.
  const key = type === 'object' ? heap.strings[heap.nodes[i + at.name]!]! : `(${type})`
  const group = groups.get(key) ?? { bytes: 0, count: 0 }
  group.bytes += bytes
  group.count++
  groups.set(key, group)
  total += bytes
}
const kib = (b: number): string => (b / 1024).toFixed(1)
console.log(`${kib(total)} KiB in ${heap.nodes.length / width} nodes; ${kib(total / archives)} KiB per archive of ${archives}`)
console.log('KiB'.padStart(10), 'KiB/archive'.padStart(12), 'count'.padStart(9), '  kind')
for (const [key, g] of [...groups].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(kib(g.bytes).padStart(10), kib(g.bytes / archives).padStart(12), String(g.count).padStart(9), ' ', key.slice(0, 80))
}
