/** The part of WebTorrent 2's untyped API that the interop tests use. */
declare module 'webtorrent' {
  import type { EventEmitter } from 'node:events'

  export interface WebTorrentOptions {
    dht?: boolean
    tracker?: boolean
    lsd?: boolean
    utp?: boolean
    natUpnp?: boolean
    natPmp?: boolean
    webSeeds?: boolean
  }

  export interface WebTorrentFile {
    readonly path: string
    readonly length: number
  }

  export interface WebTorrentTorrent extends EventEmitter {
    readonly infoHash: string
    readonly magnetURI: string
    readonly files: WebTorrentFile[]
    readonly done: boolean
    /** "host:port"; only after the 'infoHash' event. */
    addPeer (peer: string): boolean
  }

  export default class WebTorrent extends EventEmitter {
    constructor (opts?: WebTorrentOptions)
    readonly listening: boolean
    address (): { address: string, port: number } | null
    add (torrentId: string, opts: { path: string }): WebTorrentTorrent
    seed (input: string, opts: { announceList?: string[][], pieceLength?: number }, onseed: (torrent: WebTorrentTorrent) => void): WebTorrentTorrent
    destroy (cb?: (err?: Error | null) => void): void
  }
}
