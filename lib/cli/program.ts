import { Command } from 'commander'
import { register as cat } from './commands/cat.js'
import { register as demo } from './commands/demo.js'
import { register as download } from './commands/download.js'
import { register as get } from './commands/get.js'
import { register as keygen } from './commands/keygen.js'
import { register as ls } from './commands/ls.js'
import { register as publish } from './commands/publish.js'
import { register as seed } from './commands/seed.js'
import { register as serve } from './commands/serve.js'

/** Each command is one module under commands/ that adds itself to the program. */
const COMMANDS: ReadonlyArray<(program: Command) => void> = [get, download, seed, keygen, publish, ls, cat, serve, demo]

export const VERSION = '0.1.0'

/**
 * The `trackerless` program. Usage errors throw a CommanderError instead of exiting, so the
 * caller decides the exit code (2).
 */
export function buildProgram (): Command {
  const program = new Command('trackerless')
    .description('BitTorrent archives with no tracker: download, seed, list, read and serve them over HTTP')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
  for (const add of COMMANDS) add(program)
  return program
}
