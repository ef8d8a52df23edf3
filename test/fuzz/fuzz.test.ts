import { test } from 'node:test'
import { targets } from './targets.js'
import { v2Targets } from './v2-target.js'

// The short pass of `npm test`: a few hundred inputs per target, a few seconds in all. The long
// runs are `npm run fuzz` (FUZZ_SECONDS per target).
const BUDGET = { numRuns: 300, timeLimit: 400 }

for (const target of [...targets, ...v2Targets]) {
  test(`fuzz ${target.name}`, () => target.check(target.name.startsWith('swarm/') ? { numRuns: 25, timeLimit: 3_000 } : BUDGET))
}
