import { TrackerlessError } from '../errors.js'
import { escapeJson, escapeText } from './escape.js'

/** What `--json` prints, one object per line. */
export type CliEvent =
  | { event: 'metadata', infoHash: string, name: string, length: number, files: number }
  | { event: 'progress', infoHash: string, progress: number, bytes: number, length: number, peers: number, speed: number }
  | { event: 'done', infoHash: string, path: string, length: number }
  | { event: 'seeding', infoHash: string, magnet: string, port: number, torrentFile: string | null }
  | { event: 'listening', url: string, host: string, port: number, torrentPort: number }
  | { event: 'entry', path: string, type: 'file' | 'directory', size: number }
  | { event: 'peer', infoHash: string, address: string }
  | { event: 'stopped', reason: 'signal' | 'finished' }
  | { event: 'keygen', publicKey: string, path: string }
  | { event: 'published', link: string, publicKey: string }
  | { event: 'step', step: number, of: number, text: string }
  | { event: 'error', code: string, message: string }
  | { event: 'portmap', protocol: 'tcp' | 'udp', port: number, external: string | null, code?: string, message?: string }

export interface OutputOptions {
  json: boolean
  quiet: boolean
  verbose: boolean
  /** Where results and JSON events go: stdout, except for commands whose stdout is file data. */
  results: NodeJS.WritableStream
  /** Where narration, progress and errors go in text mode. */
  messages: NodeJS.WritableStream & { isTTY?: boolean }
}

/**
 * A command's voice. Text mode: results on `results`, narration on `messages` (silenced by
 * --quiet). JSON mode: every event as one line on `results`, nothing else. Each text is one line
 * with its control characters escaped, as it may carry a name from a torrent.
 */
export class Output {
  readonly json: boolean
  readonly quiet: boolean
  readonly verbose: boolean
  private readonly results: NodeJS.WritableStream
  private readonly messages: NodeJS.WritableStream & { isTTY?: boolean }

  constructor (opts: OutputOptions) {
    this.json = opts.json
    this.quiet = opts.quiet
    this.verbose = opts.verbose
    this.results = opts.results
    this.messages = opts.messages
  }

  /** A live progress bar fits: a terminal, and neither --json nor --quiet. */
  get interactive (): boolean {
    return !this.json && !this.quiet && this.messages.isTTY === true
  }

  get messageStream (): NodeJS.WritableStream {
    return this.messages
  }

  /** The answer of the command: printed even with --quiet. */
  result (text: string, event: CliEvent): void {
    if (this.json) this.emit(event)
    else this.results.write(`${escapeText(text)}\n`)
  }

  /** Narration of what is going on. */
  info (text: string, event?: CliEvent): void {
    if (this.json) {
      if (event !== undefined) this.emit(event)
    } else if (!this.quiet) {
      this.messages.write(`${escapeText(text)}\n`)
    }
  }

  /** Detail for --verbose only. */
  detail (text: string, event?: CliEvent): void {
    if (this.verbose) this.info(text, event)
  }

  /** A failure: its message (never a stack unless --verbose), or an error event. */
  failure (err: unknown): void {
    const message = err instanceof Error ? err.message : String(err)
    if (this.json) {
      this.emit({ event: 'error', code: codeOf(err), message })
      return
    }
    this.messages.write(`trackerless: ${escapeText(message)}\n`)
    if (this.verbose && err instanceof Error && err.stack !== undefined) this.messages.write(`${err.stack.split('\n').map(escapeText).join('\n')}\n`)
  }

  emit (event: CliEvent): void {
    this.results.write(`${escapeJson(JSON.stringify(event))}\n`)
  }
}

function codeOf (err: unknown): string {
  if (err instanceof TrackerlessError) return err.code
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'EUNKNOWN'
}
