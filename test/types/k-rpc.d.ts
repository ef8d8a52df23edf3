/** The compact-form helpers of the k-rpc fork in vendor/ (BEP5 and BEP32), for tests. */
declare module 'k-rpc' {
  export interface CompactNode { id: Buffer, host: string, port: number }
  const krpc: {
    /** Compact node info of `family` (26 or 38 bytes an entry); nodes of the other family are left out. */
    encodeNodes (nodes: ReadonlyArray<{ id: Buffer, host: string, port: number }>, idLength: number, family: 4 | 6): Buffer
    /** The nodes in a compact node info field; [] for anything not a whole number of entries. */
    parseNodes (buf: unknown, idLength: number, family: 4 | 6): CompactNode[]
    /** The 4 or 16 bytes of an IP address, or null. */
    encodeIp (host: string): Buffer | null
    /** A compact peer (6 or 18 bytes), or null for port 0, another length, or IPv4 inside IPv6. */
    decodeAddress (buf: Buffer): { host: string, port: number } | null
    /** "host:port" or "[v6]:port". */
    parsePeer (peer: string): { host: string, port: number }
  }
  export default krpc
}

/** k-bucket (the routing table of k-rpc), as tests build one; typed as bittorrent-dht's RoutingTable. */
declare module 'k-bucket' {
  import type { RoutingTable } from 'bittorrent-dht'
  const KBucket: new (opts: { localNodeId: Buffer, numberOfNodesPerKBucket?: number }) => RoutingTable
  export default KBucket
}
