import { Torrent } from '../client/torrent.js'
import type { StorageFactory } from '../storage/types.js'
import { clientOptions, type CommonOptions, type OutputFlags } from './common.js'
import { inCliWords } from './messages.js'
import { Output } from './output.js'
import { formatAddress } from '../discovery/address.js'

export interface Session {
  client: Torrent
  out: Output
  /** Aborted by the first SIGINT or SIGTERM: long-running commands finish cleanly on it. */
  signal: AbortSignal
}

export interface SessionSetup {
  /** Folder the client stores downloads under (or its storage); default memory. */
  storage?: string | StorageFactory
  /** stdout carries file data (cat): results and JSON events then go to stderr. */
  dataOnStdout?: boolean
}

/**
 * Runs a command with a started client, and stops the client afterwards whatever happens. A
 * failure is printed (message only; the stack with --verbose) and sets exit code 1.
 */
export async function runSession (o: CommonOptions, setup: SessionSetup, body: (s: Session) => Promise<void>): Promise<void> {
  await runLocal(o, setup, async (out, signal) => {
    const client = new Torrent(clientOptions(o, setup.storage))
    reportPortMapping(client, out)
    try {
      await client.start()
      await body({ client, out, signal })
    } finally {
      await client.stop().catch((err: unknown) => out.detail(`stopping the client: ${String(err)}`))
    }
  })
}

/** Like runSession, without a client: for commands that make their own (demo) or need none (keygen). */
export async function runLocal (o: OutputFlags & Partial<CommonOptions>, setup: SessionSetup, body: (out: Output, signal: AbortSignal) => Promise<void>): Promise<void> {
  const out = new Output({
    json: o.json === true,
    quiet: o.quiet === true,
    verbose: o.verbose === true,
    results: setup.dataOnStdout === true ? process.stderr : process.stdout,
    messages: process.stderr
  })
  const controller = new AbortController()
  const onSignal = (): void => {
    // A second Ctrl-C means "now": the first one's clean stop is taking too long.
    if (controller.signal.aborted) process.exit(1)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    await body(out, controller.signal)
  } catch (err) {
    out.failure(inCliWords(err, o))
    process.exitCode = 1
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** Resolves once `signal` is aborted (Ctrl-C), for commands that run until stopped. */
export function untilStopped (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}

/** --verbose: what the router said to our port mapping requests. */
function reportPortMapping (client: Torrent, out: Output): void {
  client.nat.on('map', (m) => {
    const external = formatAddress(m.externalAddress, m.externalPort)
    out.detail(`the router maps ${m.protocol.toUpperCase()} port ${m.internalPort} to ${external} for ${m.lifetime} s`, { event: 'portmap', protocol: m.protocol, port: m.internalPort, external })
  })
  client.nat.on('fail', (err, protocol, port) => {
    out.detail(`no port mapping for ${protocol.toUpperCase()} port ${port}, peers outside this network cannot connect to it: ${err.message}`, { event: 'portmap', protocol, port, external: null, code: err.code, message: err.message })
  })
}
