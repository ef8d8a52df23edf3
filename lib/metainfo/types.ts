import type { InfoHash } from '../util/ids.js'

export interface FileEntry {
  /** Path inside the archive, '/'-separated, relative, with no empty, '.' or '..' segment. For a
   *  single-file torrent it is the torrent's name; for a multi-file one it excludes the name. */
  path: string
  length: number
  /** Byte offset of the file within the torrent's concatenated data. */
  offset: number
  /** BEP47 pad file: it occupies torrent bytes (all zero) but is never stored or listed. */
  pad: boolean
  /** BEP47 attributes ('' when none): 'x' executable, 'h' hidden, 'p' pad, 'l' symlink. */
  attr: string
  /** BEP52 `pieces root`: the SHA-256 merkle root of the file (v2 and hybrid; absent when empty). */
  root?: Buffer
}

/** The part of a torrent that lays out pieces over files; what storage needs. */
export interface Layout {
  pieceLength: number
  /** Total bytes, pad files included. */
  length: number
  files: FileEntry[]
}

export type MetainfoVersion = 1 | 2 | 'hybrid'

export interface Metainfo extends Layout {
  /** 1: SHA-1 pieces only; 2: BEP52 file tree only; 'hybrid': both, describing the same files. */
  version: MetainfoVersion
  /** What the handshake and DHT use: the SHA-1 of the info dictionary, or for a v2-only torrent
   *  its SHA-256 truncated to 20 bytes. */
  infoHash: InfoHash
  name: string
  pieceCount: number
  /** Concatenated 20-byte SHA-1 piece hashes; empty for a v2-only torrent. */
  pieceHashes: Buffer
  /** SHA-256 of the info dictionary (v2 and hybrid). */
  infoHashV2?: Buffer
  /** A .torrent's `piece layers` by hex file root, checked against the roots; absent when the
   *  info came by BEP9 or the torrent is v1. */
  pieceLayers?: Map<string, Buffer>
  /** The bencoded info dictionary exactly as hashed: what BEP9 serves. */
  info: Buffer
  /** Single-file torrents store the data at `name`; multi-file ones under a folder `name`. */
  multiFile: boolean
  private: boolean
  /** BEP19 `url-list`: http(s) mirrors of the data (lib/webseed/urls.ts says which are kept). */
  webSeeds?: string[]
}

export interface MagnetLink {
  /** `xt=urn:btih:` in hex or base32. */
  infoHash?: InfoHash
  /** `xt=urn:btmh:1220…` (BEP52): the 32-byte SHA-256 infohash of a v2 or hybrid torrent. */
  infoHashV2?: Buffer
  /** `xs=urn:btpk:` (BEP46): a 32-byte ed25519 public key. */
  publicKey?: Buffer
  /** `s=` (BEP46 salt, hex). */
  salt?: Buffer
  /** `dn=` */
  name?: string
  /** `x.pe=` peer addresses as "host:port" ("[v6]:port" for IPv6). */
  peers: string[]
  /** `so=` (BEP53): indices of selected files, ranges expanded. */
  select?: number[]
  /** `ws=` (BEP19 web seeds): http(s) mirrors of the data. */
  webSeeds?: string[]
}
