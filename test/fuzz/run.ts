/**
 * `npm run fuzz`: every target for FUZZ_SECONDS (default 60) each, or only those whose name
 * contains FUZZ_TARGET. Prints each target's outcome and the process's peak memory; exits 1 on
 * the first failure, with fast-check's seed and shrunk input to turn into a regression test.
 */
import { targets } from './targets.js'

const seconds = Number(process.env.FUZZ_SECONDS ?? 60)
const only = process.env.FUZZ_TARGET ?? ''
/** A parser that keeps memory between inputs, or allocates what a peer announces, shows up here. */
const MAX_RSS = 1536 * 1024 * 1024

let peakRss = 0
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 100)
try {
  for (const target of targets.filter((t) => t.name.includes(only))) {
    const started = Date.now()
    await target.check({ numRuns: Number.MAX_SAFE_INTEGER, timeLimit: seconds * 1000 })
    const rss = process.memoryUsage().rss
    peakRss = Math.max(peakRss, rss)
    console.log(`${target.name}: ok after ${((Date.now() - started) / 1000).toFixed(0)} s, rss ${(rss / 2 ** 20).toFixed(0)} MiB`)
    if (peakRss > MAX_RSS) throw new Error(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB is over ${MAX_RSS / 2 ** 20} MiB`)
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
} finally {
  clearInterval(sampler)
}
