/** What a mutable item looks like coming back from bittorrent-dht's get(). */
export interface DhtItem {
  v: unknown
  seq?: number
  k?: Buffer
  sig?: Buffer
  salt?: Buffer
}

export type Verify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean

/** The part of a bittorrent-dht node that BEP44 mutable items need. */
export interface MutableDht {
  get (target: Buffer, opts: { salt?: Buffer, cache?: boolean, verify?: Verify }, cb: (err: Error | null, item?: DhtItem | null) => void): void
  put (
    opts: { k: Buffer, v: { ih: Buffer }, seq: number, salt?: Buffer, cas?: number, sign: (message: Buffer) => Buffer },
    cb: (err: Error | null, target: Buffer, responses: number) => void
  ): unknown
}
