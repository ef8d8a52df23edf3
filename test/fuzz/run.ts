/**
 * `npm run fuzz`: every target for FUZZ_SECONDS (default 60) each, or only those whose name
 * contains FUZZ_TARGET. Prints each target's outcome and the process's peak memory; exits 1 on
 * the first failure, with fast-check's seed and shrunk input to turn into a regression test.
 *
 * Memory: the peak is the kernel's high-water mark (a timer cannot sample while a synchronous
 * target holds the event loop). A 30 s run of every target peaks near 190 MiB, reached in the
 * first minute; what counts is the heap still in use after a full GC once a target is done
 * ("held", 8-10 MiB there): it must stay within MAX_HELD of what it was before any ran.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import { targets as v1Targets } from './targets.js'
import { v2Targets } from './v2-target.js'

const targets = [...v1Targets, ...v2Targets]

const seconds = Number(process.env.FUZZ_SECONDS ?? 60)
const only = process.env.FUZZ_TARGET ?? ''
/** A parser that allocates what a peer announces shows up here. */
const MAX_RSS = 1536 * 1024 * 1024
/** A parser that keeps memory between inputs shows up here. */
const MAX_HELD = 64 * 1024 * 1024

/** The process's peak resident set so far, in bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024
// A full GC on demand without a command-line flag (npm run fuzz passes none).
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void
/** Heap bytes still reachable. */
function held (): number {
  gc()
  return process.memoryUsage().heapUsed
}
const MiB = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`

const baseline = held()
try {
  for (const target of targets.filter((t) => t.name.includes(only))) {
    const started = Date.now()
    await target.check({ numRuns: Number.MAX_SAFE_INTEGER, timeLimit: seconds * 1000 })
    const heap = held()
    console.log(`${target.name}: ok after ${((Date.now() - started) / 1000).toFixed(0)} s, held ${MiB(heap)}, peak rss ${MiB(peakRss())}`)
    if (heap - baseline > MAX_HELD) throw new Error(`${target.name} left ${MiB(heap - baseline)} more heap in use than before any target ran`)
    if (peakRss() > MAX_RSS) throw new Error(`peak RSS ${MiB(peakRss())} is over ${MiB(MAX_RSS)}`)
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
}
