/**
 * Choosing files on the command line: `--only PATH` (repeatable; a folder selects everything
 * below it) and `--select 0,2,4-6` (file indices as BEP53 `so=` numbers them, the order `ls
 * --index` shows). Both may be given: the files of either are fetched. They become lookup()'s
 * `files`, whose errors are told again here in the flags' words.
 */
import path from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { TrackerlessError } from '../errors.js'

/** Indices one --select may name in all, as a magnet's so= (the same bound). */
const MAX_INDICES = 100_000

export interface SelectOptions {
  only?: string[]
  select?: number[]
}

export function addSelectOptions (cmd: Command): Command {
  return cmd
    .addOption(new Option('--only <path>', 'download only this file or folder of the archive (repeatable; a folder takes everything below it)').argParser(collectPath))
    .addOption(new Option('--select <indexes>', 'download only the files with these indexes, e.g. 0,2,4-6 (as `ls --index` numbers them, like a magnet\'s so=)').argParser(collectIndexes))
}

/** lookup()'s `files` for the flags given; undefined (every file) when neither was. */
export function selectedFiles (o: SelectOptions): Array<string | number> | undefined {
  if (o.only === undefined && o.select === undefined) return undefined
  return [...o.only ?? [], ...o.select ?? []]
}

/** An ENOENT of a selection, told as the flag that caused it; any other error as it is. */
export function inFlagWords (err: unknown, o: SelectOptions): unknown {
  if (!(err instanceof TrackerlessError) || err.code !== 'ENOENT' || selectedFiles(o) === undefined) return err
  const spec = /^"(.*)" is not a file or folder/.exec(err.message)?.[1] ?? /^(\d+) is not a file or folder/.exec(err.message)?.[1]
  if (spec === undefined) return err
  const flag = /^\d+$/.test(spec) ? `--select ${spec}` : `--only ${spec}`
  return new TrackerlessError('ENOENT', `${flag}: no such file or folder in the archive; \`trackerless ls URL -r --index\` lists its files and their indexes`, { cause: err })
}

function collectPath (text: string, previous: string[] | undefined): string[] {
  if (text === '' || text.includes('\0')) throw new InvalidArgumentError('expected a path in the archive, e.g. docs or docs/a.txt')
  return [...previous ?? [], path.posix.join('/', text)]
}

function collectIndexes (text: string, previous: number[] | undefined): number[] {
  const out = [...previous ?? []]
  for (const item of text.split(',')) {
    const m = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(item.trim())
    const first = Number(m?.[1])
    const last = m?.[2] !== undefined ? Number(m[2]) : first
    if (m === null || last < first) throw new InvalidArgumentError('expected file indexes such as 0,2,4-6 (see `trackerless ls URL -r --index`)')
    if (out.length + last - first + 1 > MAX_INDICES) throw new InvalidArgumentError(`expected at most ${MAX_INDICES} indexes in all`)
    for (let i = first; i <= last; i++) out.push(i)
  }
  return out
}
