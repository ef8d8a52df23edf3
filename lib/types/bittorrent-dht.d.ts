/** The parts of bittorrent-dht 11 (BEP5, BEP44) this library uses; the package ships no types. */
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'
  import type { AddressInfo } from 'node:net'

  export interface DhtNodeInfo {
    /** Missing for a bootstrap address not yet answered. */
    id?: Buffer
    host: string
    port: number
    /** ms timestamp of the node's last message, when known. */
    seen?: number
  }

  export interface DhtPeer { host: string, port: number }

  /** A bencodable BEP44 value: bytes, or a dictionary such as BEP46's { ih }. */
  export type DhtItemValue = Buffer | { [key: string]: unknown }

  /** A BEP44 item as stored, served and returned by get(). */
  export interface DhtValue {
    v: DhtItemValue
    id?: Buffer
    /** Mutable items only: ed25519 public key, signature, sequence number and optional salt. */
    k?: Buffer
    sig?: Buffer
    seq?: number
    salt?: Buffer
  }

  /** (signature, signed bytes, public key) => valid; must not throw on bad lengths. */
  export type DhtVerify = (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean

  export interface DhtOptions {
    /** Our node id (20 bytes, or 40 hex). */
    nodeId?: Buffer | string
    /** "host:port" or { host, port } bootstrap nodes; false: start alone; default: public routers. */
    bootstrap?: false | Array<string | DhtPeer>
    /** Address we announce ourselves under for our own lookups. */
    host?: string | false
    /** Max age of stored peers in ms (0: kept until evicted). */
    maxAge?: number
    maxPeers?: number
    maxTables?: number
    maxValues?: number
    /** Enables BEP44 mutable items: put/get of items signed by `k` are checked with it. */
    verify?: DhtVerify
    /** KRPC query timeout in ms (k-rpc-socket; default 2000). */
    timeout?: number
    concurrency?: number
    k?: number
    /** The UDP socket k-rpc-socket uses instead of a dgram socket of its own. */
    socket?: DhtSocket
    /** BEP32 (vendor/ fork): the address family of the node, its nodes and peers (default 4). */
    family?: 4 | 6
  }

  /** What k-rpc-socket needs of its socket: dgram.Socket's bind, address, send, close and events. */
  export interface DhtSocket extends EventEmitter {
    bind (port?: number, address?: string, onListening?: () => void): unknown
    address (): AddressInfo
    send (buf: Uint8Array, offset: number, length: number, port: number, host: string, cb?: (err: Error | null) => void): void
    close (cb?: () => void): void
  }

  /** The BEP44 store (`_values`): an LRU in bittorrent-dht, keyed by the item's target in hex. */
  export interface DhtValueStore {
    get (key: string): DhtValue | undefined
    set (key: string, value: DhtValue): void
    /** Every item by key, as toJSON() reads it. */
    readonly cache: Record<string, { value: DhtValue }>
  }

  /**
   * Internals of a running node that bittorrent-dht offers no option or method for: its id, its
   * k-rpc instance (id and routing table) and its BEP44 store. Used by lib/discovery only.
   */
  export interface DhtInternals {
    nodeId: Buffer
    nodes: RoutingTable
    _values: DhtValueStore
    _rpc: { id: Buffer, nodes: RoutingTable, clear (): void }
  }

  export interface DhtPutOptions {
    v: DhtItemValue | string
    /** Mutable: 32-byte ed25519 public key. */
    k?: Buffer
    seq?: number
    salt?: Buffer
    cas?: number
    /** Mutable: sign(encodedSigData) => 64-byte signature; or give `sig`. */
    sign?: (message: Buffer) => Buffer
    sig?: Buffer
  }

  export interface DhtGetOptions {
    verify?: DhtVerify
    salt?: Buffer
    /** false: always ask the network, even when this node stores the item. */
    cache?: boolean
  }

  export interface DhtEvents {
    ready: []
    listening: []
    close: []
    error: [Error]
    warning: [Error]
    node: [DhtNodeInfo]
    /** A peer for `infoHash` found by lookup() or announce(). */
    peer: [DhtPeer, Buffer, DhtPeer | null]
    /** Another node announced `peer` for `infoHash` to us. */
    announce: [DhtPeer, Buffer, DhtPeer]
    announce_peer: [Buffer, DhtPeer]
    get_peers: [Buffer]
    find_node: [Buffer]
    get: [Buffer, DhtValue | null]
    put: [Buffer, Buffer]
  }

  /** The routing table (k-bucket). */
  export interface RoutingTable extends EventEmitter<{ added: [DhtNodeInfo], removed: [DhtNodeInfo], updated: [DhtNodeInfo, DhtNodeInfo], ping: [DhtNodeInfo[], DhtNodeInfo] }> {
    toArray (): DhtNodeInfo[]
    count (): number
    get (id: Buffer): DhtNodeInfo | null
    /** Adds or updates a node (a full bucket emits 'ping' with its oldest nodes instead). */
    add (node: DhtNodeInfo): RoutingTable
    remove (id: Buffer): RoutingTable
    metadata: { lastChange?: number }
  }

  export default class DHT extends EventEmitter<DhtEvents> {
    constructor (opts?: DhtOptions)
    readonly nodeId: Buffer
    readonly nodes: RoutingTable
    readonly listening: boolean
    readonly destroyed: boolean
    readonly ready: boolean | undefined
    /** BEP32 (vendor/ fork): 4 or 6. */
    readonly family: 4 | 6
    /** BEP32 (vendor/ fork): a node of the other family answers queries that `want` its nodes. */
    pair (other: DHT): void
    listen (port?: number, address?: string, onListening?: () => void): void
    address (): AddressInfo
    addNode (node: DhtNodeInfo): void
    removeNode (id: Buffer): void
    /** Finds peers (emitted as 'peer'); the returned function stops emitting them. */
    lookup (infoHash: Buffer | string, cb?: (err: Error | null, nodesVisited: number) => void): () => void
    /** announce_peer to the closest nodes (after a lookup when none is cached); port 0: implied port. */
    announce (infoHash: Buffer | string, port: number, cb?: (err: Error | null) => void): void
    /** BEP44 put; cb gets the item's target hash and the number of nodes that stored it. */
    put (opts: DhtPutOptions, cb?: (err: Error | null, hash: Buffer, nodesStored: number) => void): Buffer
    /** BEP44 get: the newest valid item for `key` (a target hash), or null. */
    get (key: Buffer | string, opts: DhtGetOptions, cb: (err: Error | null, value: DhtValue | null) => void): void
    get (key: Buffer | string, cb: (err: Error | null, value: DhtValue | null) => void): void
    toJSON (): { nodes: DhtPeer[], values: Record<string, unknown> }
    destroy (cb?: () => void): void
  }
}
