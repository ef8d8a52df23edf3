/**
 * What an Archive's files are: a draft's buffers (new Archive(), writable until it is seeded) or
 * a torrent read through its TorrentPort (lookup(), or a draft once seeded). The Archive holds
 * one of the two behind ArchiveContents and swaps the draft for the torrent when it is seeded.
 */
import { formatMagnet, torrentMagnet } from '../metainfo/magnet.js'
import { BLOCK_SIZE } from '../wire/messages.js'
import { FileTree, segmentsOf, type FileNode } from './tree.js'
import { readRange, prefetchRange, throwIfAborted } from './reader.js'
import type { FileSource } from './stream.js'
import type { TorrentPort } from './port.js'

export interface ArchiveContents {
  readonly tree: FileTree
  /** 40 hex digits; '' for a draft. */
  readonly infoHash: string
  readonly name: string
  /** Bytes of all files. */
  readonly length: number
  readonly peers: string[]
  readonly downloaded: number
  readonly uploaded: number
  readonly progress: number
  /** The unit reads are fetched in, which stat() reports as blksize. */
  readonly blockSize: number
  /** The btih magnet link; '' for a draft. */
  readonly magnet: string
  source (file: FileNode, path: string): FileSource
}

/** A draft's files, by path: written by the user, kept after sealing so other clients can seed it. */
export class DraftContents implements ArchiveContents {
  readonly tree = new FileTree()
  readonly files = new Map<string, Buffer>()
  readonly infoHash = ''
  readonly name = ''
  readonly peers: string[] = []
  readonly downloaded = 0
  readonly uploaded = 0
  /** A draft is always complete. */
  readonly progress = 1
  readonly blockSize = BLOCK_SIZE
  readonly magnet = ''

  get length (): number {
    return [...this.files.values()].reduce((n, b) => n + b.length, 0)
  }

  write (path: string, bytes: Buffer): void {
    const key = segmentsOf(path).join('/')
    this.tree.addFile(key, bytes.length, 0)
    this.files.set(key, bytes)
  }

  source (_file: FileNode, path: string): FileSource {
    const bytes = this.files.get(segmentsOf(path).join('/'))!
    return {
      offset: 0,
      pieceLength: BLOCK_SIZE,
      read: async (position, length, signal) => { throwIfAborted(signal); return bytes.subarray(position, position + length) },
      prefetch: () => () => {}
    }
  }
}

/** A torrent whose metadata and storage are ready: reads wait for its pieces, which jump the queue. */
export class TorrentContents implements ArchiveContents {
  readonly tree = new FileTree()
  readonly port: TorrentPort
  private readonly pieceLength: number
  private readonly fileBytes: number

  constructor (port: TorrentPort) {
    this.port = port
    const meta = port.metainfo!
    this.pieceLength = meta.pieceLength
    this.fileBytes = meta.files.reduce((n, f) => n + (f.pad ? 0 : f.length), 0)
    for (const file of meta.files) if (!file.pad) this.tree.addFile(file.path, file.length, file.offset)
  }

  get infoHash (): string { return this.port.infoHash.toString('hex') }
  get name (): string { return this.port.metainfo?.name ?? '' }
  get length (): number { return this.fileBytes }
  get peers (): string[] { return [...this.port.peers].map((p) => p.address) }
  get downloaded (): number { return this.port.downloaded }
  get uploaded (): number { return this.port.uploaded }
  get progress (): number { return this.port.progress }
  get blockSize (): number { return this.pieceLength }
  get magnet (): string { return this.port.metainfo !== null ? torrentMagnet(this.port.metainfo) : formatMagnet({ infoHash: this.port.infoHash, name: this.name, peers: [] }) }

  source (file: FileNode): FileSource {
    const port = this.port
    return {
      offset: file.offset,
      pieceLength: this.pieceLength,
      read: (position, length, signal) => readRange(port, file.offset + position, length, signal),
      prefetch: (position, length) => prefetchRange(port, file.offset + position, length)
    }
  }
}
