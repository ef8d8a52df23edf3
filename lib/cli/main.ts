#!/usr/bin/env node
import { CommanderError } from 'commander'
import { buildProgram } from './program.js'
import { escapeText } from './escape.js'

/** Exit codes (SPEC §5): 0 success, 1 runtime failure, 2 bad usage. */
const USAGE = 2
const FAILURE = 1

try {
  await buildProgram().parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander has printed its message (or the help, or the version) already.
    process.exitCode = err.exitCode === 0 ? 0 : USAGE
  } else {
    // Commands report their own failures; this is what escaped before a command started.
    process.stderr.write(`trackerless: ${escapeText(err instanceof Error ? err.message : String(err))}\n`)
    process.exitCode = FAILURE
  }
}
