/**
 * The web seeds of one torrent (BEP19) as sources the download gives pieces to. The rule: each
 * mirror is one more source, as libtorrent does, fetching whole pieces the picker offers a seed
 * (the rarest wanted piece nobody has started; a piece a read waits for first), at most
 * PIECES_PER_SEED at a time and, for all mirrors together, no more than the memory budget holds.
 * A piece is verified like any peer's. A mirror that fails (HTTP status, timeout, short body,
 * bad redirect) waits twice as long after each failure and is dropped after MAX_FAILURES in a
 * row; one that serves data failing the hash check is dropped at once. Why is in `states`.
 */
import type { Metainfo } from '../metainfo/types.js'
import { sharedBuffer } from '../storage/file-writer.js'
import { DEFAULT_RANGE_LIMITS, fetchRange, rangeAgents, type RangeAgents, type RangeLimits } from './http-range.js'
import { fileRanges, fileUrl } from './urls.js'
import { torrentNames, type TorrentNames } from './names.js'

/** What a download's owner sees of one mirror. */
export interface WebSeedState {
  url: string
  /** 'active' fetches or can; 'backoff' waits after a failure; 'dropped' is used no more. */
  state: 'active' | 'backoff' | 'dropped'
  /** Bytes of piece data received from it, verified or not. */
  downloaded: number
  /** Failures in a row. */
  failures: number
  /** The last failure, or why it was dropped; null while none. */
  reason: string | null
}

export interface WebSeedTuning {
  piecesPerSeed: number
  maxFailures: number
  /** Milliseconds of the first backoff; each failure in a row doubles it. */
  backoff: number
  range: RangeLimits
}

export const DEFAULT_WEB_SEED_TUNING: WebSeedTuning = { piecesPerSeed: 4, maxFailures: 5, backoff: 2_000, range: DEFAULT_RANGE_LIMITS }

/** What the web seeds need of the download's picker (swarm/picker.ts). */
export interface WebSeedPicker {
  /** The piece a seed would be given next, or -1. */
  pick (peer: 'all'): number
  markStarted (index: number): void
  markAbandoned (index: number): void
}

/** What the web seeds need of the download. */
export interface WebSeedHost {
  meta: Metainfo
  picker: WebSeedPicker
  /** The piece's hash matches. */
  verify (index: number, data: Buffer): Promise<boolean>
  /** Writes a verified piece and tells everyone, as for a piece from a peer. */
  store (index: number, data: Buffer): Promise<void>
  /** Bytes of piece data arrived (download stats). */
  received (bytes: number): void
  /** Pieces went back to the picker: the peers may take them. */
  abandoned (): void
  /** Downloading stopped for good (a write failed): nothing more is fetched. */
  stopped (): boolean
  /** Pieces all mirrors together may hold in memory at once. */
  maxPieces: number
}

interface Mirror extends WebSeedState {
  inFlight: number
  timer: NodeJS.Timeout | null
}

export class WebSeeds {
  private readonly host: WebSeedHost
  private readonly tuning: WebSeedTuning
  private readonly mirrors: Mirror[]
  private readonly names: TorrentNames
  private readonly abort = new AbortController()
  private readonly agents: RangeAgents
  private inFlight = 0
  private stop = false

  constructor (urls: readonly string[], host: WebSeedHost, tuning: Partial<WebSeedTuning> = {}) {
    this.host = host
    this.tuning = { ...DEFAULT_WEB_SEED_TUNING, ...tuning }
    this.names = torrentNames(host.meta)
    this.mirrors = urls.map((url) => ({ url, state: 'active', downloaded: 0, failures: 0, reason: null, inFlight: 0, timer: null }))
    this.agents = rangeAgents(this.tuning.piecesPerSeed, this.tuning.range.idleTimeout)
  }

  get closed (): boolean {
    return this.stop
  }

  get states (): WebSeedState[] {
    return this.mirrors.map(({ url, state, downloaded, failures, reason }) => ({ url, state, downloaded, failures, reason }))
  }

  /** Gives pieces to every mirror that can take one: call when pieces may have become wanted. */
  wake (): void {
    if (this.stop || this.host.stopped()) return
    for (const mirror of this.mirrors) {
      while (mirror.state === 'active' && mirror.inFlight < this.tuning.piecesPerSeed && this.inFlight < this.host.maxPieces) {
        const index = this.host.picker.pick('all')
        if (index === -1) return
        this.host.picker.markStarted(index)
        this.fetch(mirror, index)
      }
    }
  }

  close (): void {
    this.stop = true
    this.abort.abort()
    this.agents.http.destroy()
    this.agents.https.destroy()
    for (const mirror of this.mirrors) if (mirror.timer !== null) clearTimeout(mirror.timer)
  }

  private fetch (mirror: Mirror, index: number): void {
    mirror.inFlight++
    this.inFlight++
    this.fetchPiece(mirror, index).then(async (data) => {
      mirror.downloaded += data.length
      this.host.received(data.length)
      if (this.stop) return
      if (!await this.host.verify(index, data)) {
        this.giveBack(index)
        this.drop(mirror, `served data for piece ${index} that failed its SHA-1 check`)
        return
      }
      mirror.failures = 0
      if (!this.stop) await this.host.store(index, data)
    }, (err: Error) => {
      if (this.stop) return
      this.giveBack(index)
      this.failed(mirror, err.message)
    }).catch(() => {
      // The storage closed or failed; after a failed write the download stops (store reports it).
      if (!this.stop && !this.host.stopped()) this.giveBack(index)
    }).finally(() => {
      mirror.inFlight--
      this.inFlight--
      this.wake()
    })
  }

  /** The piece's bytes from the mirror, file range by file range; pad files are zeros. */
  private async fetchPiece (mirror: Mirror, index: number): Promise<Buffer> {
    const { meta } = this.host
    const size = Math.min(meta.pieceLength, meta.length - index * meta.pieceLength)
    const data = sharedBuffer(size)
    for (const range of fileRanges(meta.files, index * meta.pieceLength, size)) {
      if (meta.files[range.file]!.pad) continue
      const url = fileUrl(mirror.url, meta.multiFile, this.names.name, this.names.paths[range.file]!)
      await fetchRange(url, range.start, range.length, data, range.at, this.tuning.range, this.abort.signal, this.agents)
    }
    return data
  }

  private giveBack (index: number): void {
    this.host.picker.markAbandoned(index)
    this.host.abandoned()
  }

  private failed (mirror: Mirror, reason: string): void {
    if (mirror.state === 'dropped') return
    mirror.failures++
    if (mirror.failures >= this.tuning.maxFailures) {
      this.drop(mirror, `failed ${mirror.failures} times in a row, last: ${reason}`)
      return
    }
    mirror.reason = reason
    mirror.state = 'backoff'
    if (mirror.timer !== null) clearTimeout(mirror.timer)
    mirror.timer = setTimeout(() => {
      mirror.timer = null
      if (mirror.state === 'backoff') mirror.state = 'active'
      this.wake()
    }, this.tuning.backoff * 2 ** (mirror.failures - 1))
    mirror.timer.unref()
  }

  private drop (mirror: Mirror, reason: string): void {
    mirror.state = 'dropped'
    mirror.reason = reason
    if (mirror.timer !== null) clearTimeout(mirror.timer)
    mirror.timer = null
  }
}
