// The published .d.ts files import dependencies that ship no types (bencode, bittorrent-dht,
// random-access-*, sodium-native). Our declarations for them (lib/types) are not emitted by tsc, so
// the build copies them beside the output and references them from index.d.ts: a consumer then
// type-checks without skipLibCheck and without @types packages we do not control.
import fs from 'node:fs'

const from = 'lib/types'
const to = 'dist/lib/types'
fs.cpSync(from, to, { recursive: true })
const refs = fs.readdirSync(to).filter((f) => f.endsWith('.d.ts')).sort()
  .map((f) => `/// <reference path="./lib/types/${f}" />\n`).join('')
const index = 'dist/index.d.ts'
fs.writeFileSync(index, refs + fs.readFileSync(index, 'utf8'))
