import { Bitfield } from '../util/bitfield.js'
import type { Swarm } from '../swarm/swarm.js'
import type { TorrentStorage } from '../storage/torrent-storage.js'
import { ResumeRejected, loadResume, saveResume, trustedPieces, type FileStamp, type ResumeRecord } from '../storage/resume-data.js'

/** Seconds between saves while pieces arrive: a crash loses at most this much of the skipped re-hash. */
const SAVE_INTERVAL = 5_000
export const RESUME_WARNING = 'TRACKERLESS_RESUME'

/**
 * One torrent's resume data in `stateDir` (resume-data.ts), for as long as it is open: read once
 * for the scan, saved a few seconds after pieces arrive, at completion and at close. A resume
 * file that cannot be used is reported as a process warning (code TRACKERLESS_RESUME) with the
 * reason, and the scan checks every piece.
 */
export class ResumeKeeper {
  private readonly stateDir: string
  private readonly infoHash: string
  private swarm: Swarm | null = null
  private timer: NodeJS.Timeout | null = null
  private saving: Promise<void> = Promise.resolve()
  /** Something changed since the record on disk was right. */
  private dirty = false
  private closed = false

  constructor (stateDir: string, infoHash: string) {
    this.stateDir = stateDir
    this.infoHash = infoHash
  }

  /** The swarm's scan: the pieces of files unchanged since the last save come from the record. */
  readonly scan = async (storage: TorrentStorage): Promise<Bitfield> => {
    const { pieceCount } = storage
    const fileCount = storage.map.layout.files.length
    let rec: ResumeRecord | null = null
    try {
      rec = await loadResume(this.stateDir, this.infoHash, pieceCount, fileCount)
    } catch (err) {
      if (!(err instanceof ResumeRejected)) throw err
      process.emitWarning(`The resume data of ${this.infoHash} in ${this.stateDir} is not used, because ${err.message}; every piece is checked instead.`, { code: RESUME_WARNING })
    }
    if (rec === null) {
      this.dirty = true
      return await storage.scan()
    }
    const trusted = trustedPieces(rec, storage.map, await stamps(storage))
    this.dirty = trusted.count < pieceCount
    return await storage.scan(undefined, { have: rec.have, trusted })
  }

  /** Follows `swarm`'s pieces to save them. */
  attach (swarm: Swarm): void {
    this.swarm = swarm
    swarm.on('piece', this.onPiece)
    swarm.on('done', this.onDone)
  }

  /** Saves what is new and stops following the swarm; call before the swarm closes its storage. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.swarm?.off('piece', this.onPiece)
    this.swarm?.off('done', this.onDone)
    await this.save()
  }

  private readonly onPiece = (): void => {
    this.dirty = true
    this.timer ??= setTimeout(() => {
      this.timer = null
      this.save().catch(noop)
    }, SAVE_INTERVAL).unref()
  }

  private readonly onDone = (): void => {
    this.dirty = true
    this.save().catch(noop)
  }

  /** Saves are one after the other, each with the newest state; a failed save leaves the old file. */
  private save (): Promise<void> {
    this.saving = this.saving.then(async () => {
      const swarm = this.swarm
      if (!this.dirty || swarm === null || swarm.storage === null || swarm.have === null) return
      this.dirty = false
      // The bits first, then the stamps: a piece written in between is left out of the bits but
      // changes its file's stamp, so it is checked next time rather than trusted.
      const have = new Bitfield(swarm.have.length, swarm.have.buffer)
      const files = await stamps(swarm.storage)
      if (files.every((f) => f === null)) return
      await saveResume(this.stateDir, this.infoHash, { pieceCount: have.length, have, files })
    }).catch(() => { this.dirty = true })
    return this.saving
  }
}

async function stamps (storage: TorrentStorage): Promise<Array<FileStamp | null>> {
  const out: Array<FileStamp | null> = []
  for (let i = 0; i < storage.map.layout.files.length; i++) out.push(await storage.fileStamp(i).catch(() => null))
  return out
}

function noop (): void {}
