import { InvalidArgumentError, Option, type Command } from 'commander'
import { parsePeerAddress } from '../metainfo/magnet.js'
import type { TorrentOptions } from '../client/torrent.js'
import { ENCRYPTION_POLICIES, type EncryptionPolicy } from '../transport/mse/policy.js'
import { parseRate, parseSize } from './size.js'

/** --json, --quiet, --verbose: what every command takes. */
export interface OutputFlags {
  json?: boolean
  quiet?: boolean
  verbose?: boolean
}

/** The flags every networked command takes (SPEC §5, "common"). */
export interface CommonOptions extends OutputFlags {
  bootstrap?: string[]
  dht: boolean
  /** --no-dht6: no IPv6 DHT node (BEP32) beside the IPv4 one. */
  dht6?: boolean
  lsd: boolean
  pex: boolean
  /** --no-nat: no port mapping on the router. Absent on commands without the flag. */
  nat?: boolean
  /** --no-tcp, --no-utp: peer connections over one transport only. Absent on commands without them. */
  tcp?: boolean
  utp?: boolean
  /** TCP port for peers; `serve` calls it --torrent-port, since its --port is the HTTP port. */
  port?: number
  torrentPort?: number
  dhtPort?: number
  bind?: string
  stateDir?: string
  encryption?: EncryptionPolicy
  /** --download-limit, --upload-limit: bytes per second for the whole client. */
  downloadLimit?: number
  uploadLimit?: number
  /** --memory-limit: bytes the commands that keep archives in memory (cat, serve) may hold. */
  memoryLimit?: number
}

/** Adds the common flags; `peerPortFlag` names the option for the peer wire port. */
export function addCommonOptions (cmd: Command, peerPortFlag: '--port' | '--torrent-port' = '--port'): Command {
  cmd
    .addOption(new Option('--bootstrap <host:port>', 'DHT bootstrap node (repeatable)').argParser(collectAddress))
    .option('--no-dht', 'do not use the DHT')
    .option('--no-dht6', 'no IPv6 DHT node beside the IPv4 one')
    .option('--no-lsd', 'do not use local service discovery')
    .option('--no-pex', 'do not use peer exchange')
    .option('--no-nat', 'do not map the peer and DHT ports on the router (NAT-PMP, PCP, UPnP IGD)')
    .option('--no-tcp', 'no peer connections over TCP (uTP only)')
    .option('--no-utp', 'no peer connections over uTP (TCP only)')
    .addOption(new Option(`${peerPortFlag} <port>`, 'TCP port for peers (0: any free port)').argParser(parsePort))
    .addOption(new Option('--dht-port <port>', 'UDP port of the DHT node (default, or 0: the peer port, shared with uTP)').argParser(parsePort))
    .option('--bind <address>', 'address to bind the peer and DHT ports (default: all interfaces)')
    .option('--state-dir <dir>', 'where DHT nodes and resume data persist between runs')
    .addOption(new Option('--encryption <policy>', 'peer encryption (MSE/PE): prefer, require, allow or disable').choices(ENCRYPTION_POLICIES))
    .addOption(new Option('--download-limit <rate>', 'bytes per second downloaded at most (suffix K, M, G; 0: no limit)').argParser(parseRate))
    .addOption(new Option('--upload-limit <rate>', 'bytes per second uploaded at most (suffix K, M, G; 0: no limit)').argParser(parseRate))
  return addOutputOptions(cmd)
}

/** For commands that only talk to the DHT (publish): no peer port, LSD or PEX flags that would do nothing. */
export function addDhtOptions (cmd: Command): Command {
  cmd
    .addOption(new Option('--bootstrap <host:port>', 'DHT bootstrap node (repeatable)').argParser(collectAddress))
    .addOption(new Option('--dht-port <port>', 'UDP port of the DHT node (default, or 0: the peer port, shared with uTP)').argParser(parsePort))
    .option('--no-dht6', 'no IPv6 DHT node beside the IPv4 one')
    .option('--bind <address>', 'address to bind the DHT port (default: all interfaces)')
    .option('--state-dir <dir>', 'where DHT nodes persist between runs')
  return addOutputOptions(cmd)
}

export function addOutputOptions (cmd: Command): Command {
  return cmd
    .option('--json', 'machine-readable output: one JSON object per line')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print peers as they connect, and stacks with errors')
}

/** `--memory-limit SIZE`, for the commands whose archives are held in memory. */
export function addMemoryOption (cmd: Command): Command {
  return cmd.addOption(new Option('--memory-limit <bytes>', 'memory the archives may hold (suffix K, M, G; default: half the memory; 0: no limit)').argParser(parseSize))
}

/** `--peer HOST:PORT`, repeatable. */
export function addPeerOption (cmd: Command): Command {
  return cmd.addOption(new Option('--peer <host:port>', 'a peer to connect to (repeatable)').argParser(collectAddress))
}

/** `--timeout MS` for finding peers and metadata. */
export function addTimeoutOption (cmd: Command, fallback: number): Command {
  return cmd.addOption(new Option('--timeout <ms>', 'how long to look for peers and metadata').argParser(parseMillis).default(fallback))
}

export function clientOptions (o: CommonOptions, storage?: TorrentOptions['storage']): TorrentOptions {
  const port = o.port ?? o.torrentPort
  return {
    dht: !o.dht ? false : o.bootstrap !== undefined ? o.bootstrap : undefined,
    lsd: o.lsd,
    pex: o.pex,
    ...(port !== undefined ? { torrentPort: port } : {}),
    ...(o.dhtPort !== undefined ? { dhtPort: o.dhtPort } : {}),
    ...(o.bind !== undefined ? { host: o.bind } : {}),
    ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
    ...(o.nat === false ? { natTraversal: false } : {}),
    ...(o.dht6 === false ? { dht6: false } : {}),
    ...(o.encryption !== undefined ? { encryption: o.encryption } : {}),
    ...(o.tcp === false ? { tcp: false } : {}),
    ...(o.utp === false ? { utp: false } : {}),
    ...(o.downloadLimit !== undefined ? { downloadLimit: o.downloadLimit } : {}),
    ...(o.uploadLimit !== undefined ? { uploadLimit: o.uploadLimit } : {}),
    ...(o.memoryLimit !== undefined ? { memoryLimit: o.memoryLimit } : {}),
    ...(storage !== undefined ? { storage } : {})
  }
}

export function parsePort (text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new InvalidArgumentError('expected a port number, 0 to 65535')
  return Number(text)
}

function parseMillis (text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) === 0) throw new InvalidArgumentError('expected a positive number of milliseconds')
  return Number(text)
}

function collectAddress (text: string, previous: string[] | undefined): string[] {
  try {
    parsePeerAddress(text)
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err))
  }
  return [...previous ?? [], text]
}
