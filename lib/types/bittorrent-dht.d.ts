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
  export interface RoutingTable {
    toArray (): DhtNodeInfo[]
    count (): number
    get (id: Buffer): DhtNodeInfo | null
  }

  export default class DHT extends EventEmitter<DhtEvents> {
    constructor (opts?: DhtOptions)
    readonly nodeId: Buffer
    readonly nodes: RoutingTable
    readonly listening: boolean
    readonly destroyed: boolean
    readonly ready: boolean | undefined
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
