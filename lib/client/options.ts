import type { EncryptionPolicy } from '../transport/mse/policy.js'
import type { StorageFactory } from '../storage/types.js'
import type { StorageClass } from './normalize-options.js'
import type { PeerLimits } from '../swarm/connection-slots.js'

/** The options of a client and of its calls: the public surface's types (index.ts exports them). */

export interface TorrentOptions {
  /** DHT bootstrap nodes ("host:port"); false disables the DHT. */
  dht?: string[] | false
  /** The DHT's UDP port; unset, 0 or torrentPort: uTP's socket at the peer port, shared (with uTP off: any free port). */
  dhtPort?: number
  /**
   * BEP32: a second DHT node on IPv6 (its own UDP socket, at the same port number when free)
   * beside the IPv4 one, when `host` is unset or '::' (default true); never an error on a machine
   * without IPv6. An IPv6 `host` runs the IPv6 node alone, an IPv4 one the IPv4 node alone.
   * Bootstrap nodes may be "[v6]:port".
   */
  dht6?: boolean
  torrentPort?: number
  /** 20 bytes; 40 hex characters; or any other string or bytes: up to 20 bytes are a prefix padded
   *  with random bytes, longer ones are hashed (SHA-1) to 20 bytes. Default: '-tl0100-' + random. */
  peerId?: Uint8Array | string
  /** A folder to store torrents under, a random-access-storage class (e.g. random-access-memory's
   *  export: `new` is called per file path), or a factory of a storage per file path. Default: memory. */
  storage?: string | StorageFactory | StorageClass
  /**
   * BEP14 local discovery (default true). `{ interface: '127.0.0.1' }` keeps it on one IPv4
   * interface (multicast out of and membership on that interface only, no IPv6).
   */
  lsd?: boolean | { interface?: string }
  pex?: boolean
  /**
   * Message Stream Encryption (MSE/PE, RC4), both ways. 'prefer' (default, libtorrent's too):
   * dial encrypted, retrying in plain text if the peer drops that; accept both. 'require': RC4
   * only, both ways. 'allow': as 'prefer', but dial in plain text first. 'disable': plain text
   * only. CLI: --encryption.
   */
  encryption?: EncryptionPolicy
  host?: string
  stateDir?: string
  /**
   * Map the TCP port and the DHT's UDP port on the router (NAT-PMP, PCP or UPnP IGD), so that peers outside reach
   * us; renewed while the client runs, removed at stop(). Default true; never with a loopback or
   * IPv6 `host`. Outcomes are `client.nat`'s 'map' and 'fail' events; a failure is never fatal.
   */
  natTraversal?: boolean
  /** Peer connections over TCP (default true). */
  tcp?: boolean
  /** Peer connections over uTP (BEP29), on UDP at the TCP port's number (default true). At least
   *  one of `tcp` and `utp` must be on. */
  utp?: boolean
  /** Piece data received by all torrents together, bytes per second; 0 (default): unlimited.
   *  Requests are paced to it. CLI: --download-limit. */
  downloadLimit?: number
  /** Piece data sent by all torrents together, bytes per second; 0 (default): unlimited. CLI: --upload-limit. */
  uploadLimit?: number
  /** Bytes the memory storage (the default `storage`) may hold for all open torrents together;
   *  a write past it fails that torrent with ENOMEM. Default: half the machine's (or the
   *  container's) memory; 0 or Infinity: no limit. */
  memoryLimit?: number
  /** @internal Tests: the NAT-PMP server to ask instead of the default gateway's (and no PCP or UPnP); mapping then happens whatever `host` is. */
  natGateway?: { host: string, port: number }
  /** @internal Shorter timeouts and caps for tests; not public API. */
  limits?: PeerLimits
}

/** Options of `client.lookup()`. */
export interface LookupOptions {
  /** Milliseconds to find peers and metadata before rejecting with ETIMEDOUT. Default 30000. */
  timeout?: number
  /** Keep uploading once every piece is here. Default true; false chokes every peer at completion. */
  seed?: boolean
  /**
   * 'lazy' (default) fetches only the pieces reads ask for; 'all' also fetches every other piece,
   * rarest first, in the background. Reads jump the queue either way. When the client already has
   * the torrent open, the first lookup's choice stands.
   */
  download?: 'lazy' | 'all'
  /**
   * Files to fetch in the background, whatever `download` says: paths in the archive ('/docs'
   * names every file below it) or file indices in torrent order (as a magnet's so=, which it
   * replaces). Reads of other files still fetch what they read; progress, ETA and 'done' count
   * only the selected files. ENOENT when an entry names nothing. On a torrent already open, they
   * are added to its selection.
   */
  files?: Array<string | number>
  /** Aborting rejects a pending lookup with EABORTED. */
  signal?: AbortSignal
  /** Extra peers, "host:port" (as x.pe in a magnet link). */
  peers?: string[]
  /** For a mutable link (xs=urn:btpk): ms between looks for a newer version. Default 60000. */
  updateInterval?: number
  /** This torrent's download limit, bytes per second (the client's applies too); 0: none.
   *  Sets the torrent's limit when given, as archive.setLimits() does. */
  downloadLimit?: number
  /** This torrent's upload limit, bytes per second (the client's applies too); 0: none. */
  uploadLimit?: number
  /** BEP16 super-seeding, as `seed()`'s option, when the data is already complete as the torrent
   *  opens (a seeder restarted on its files); ignored otherwise. Default false. */
  superSeed?: boolean
}

/** Options of `client.publish()`. */
export interface PublishOptions {
  /** BEP44 salt (text is taken as UTF-8, at most 64 bytes): one key can publish several links. */
  salt?: string | Uint8Array
}

/** Options of `client.seed()`. */
export interface SeedOptions {
  /** The torrent's name; default: the file's or folder's name ("archive" for a draft). */
  name?: string
  /** BEP47 pad files so that every file starts a piece: versions of an archive then share pieces. */
  pad?: boolean
  /** The torrent's BitTorrent version: 1, 2 (BEP52 only: v1-only clients cannot fetch it) or
   *  'hybrid' (both, pad files included; the default). */
  version?: 1 | 2 | 'hybrid'
  /** Extra peers to connect to, "host:port". */
  peers?: string[]
  /** Leaves out the files and folders (paths '/'-separated, under the seeded folder) it returns true for. */
  ignore?: (path: string, isDirectory: boolean) => boolean
  /** Hears the bytes hashed so far and the total while a path or draft is hashed (pad files count). */
  onProgress?: (hashedBytes: number, totalBytes: number) => void
  /** This torrent's upload limit, bytes per second (the client's applies too); 0: none. */
  uploadLimit?: number
  /** BEP19 web seeds: http(s) URLs serving the same files, written into the torrent (`url-list`)
   *  and the magnet link (`ws=`); EINVAL for one that is not http: or https:. */
  webSeeds?: string[]
  /** BEP16 super-seeding: peers are offered one piece at a time, each piece to one peer until
   *  another has it, so the first full copy leaves us with almost nothing sent twice. Default false. */
  superSeed?: boolean
}
