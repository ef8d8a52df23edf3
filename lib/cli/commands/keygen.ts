import path from 'node:path'
import type { Command } from 'commander'
import { createKeypair } from '../../mutable/keys.js'
import { addOutputOptions, type OutputFlags } from '../common.js'
import { writeKeyFile } from '../keyfile.js'
import { runLocal } from '../session.js'

interface KeygenOptions extends OutputFlags {
  output: string
}

export function register (program: Command): void {
  const cmd = program
    .command('keygen')
    .description('write a new ed25519 key pair for publishing mutable links (file mode 0600); prints the public key')
    .option('-o, --output <keyfile>', 'where to write the key pair', 'trackerless.key')
  addOutputOptions(cmd).action((o: KeygenOptions) => runLocal(o, {}, async (out) => {
    const pair = await createKeypair()
    const file = path.resolve(o.output)
    await writeKeyFile(file, pair)
    out.info(`wrote ${file}; keep it private: whoever holds it can publish under this key`)
    const publicKey = pair.publicKey.toString('hex')
    out.result(publicKey, { event: 'keygen', publicKey, path: file })
  }))
}
