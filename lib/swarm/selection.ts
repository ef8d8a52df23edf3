/**
 * File selection: which files a torrent fetches in the background (lookup's `files`, a magnet's
 * so=, archive.download()/deselect()/setPriority()). It is kept as the picker's wanted pieces: a
 * piece is wanted while a selected file has bytes in it, so a piece shared with an unselected file
 * is fetched whole (it holds selected bytes). A 'high' file is also a priority range of the picker:
 * its pieces come before any other, in order, as a read's do. Reads are not its business: a read of
 * an unselected file still fetches the pieces it needs.
 */
import { TrackerlessError } from '../errors.js'
import type { Metainfo } from '../metainfo/types.js'
import type { Bitfield } from '../util/bitfield.js'
import type { PiecePicker } from './picker.js'
import { segmentsOf } from '../archive/tree.js'

/** 'skip': not fetched in the background; 'normal': fetched rarest-first; 'high': fetched before the rest, in order. */
export type FilePriority = 'skip' | 'normal' | 'high'
/** A path in the archive (a folder names every file below it; '/' is all) or a file's index in the torrent (BEP53's, pad files counted). */
export type FileSpec = string | number

const LEVEL: Record<FilePriority, number> = { skip: 0, normal: 1, high: 2 }

export class FileSelection {
  private readonly meta: Metainfo
  private readonly picker: PiecePicker
  /** Per file: 0 skip, 1 normal, 2 high. */
  private readonly level: Uint8Array
  /** Per piece: selected files with bytes in it. */
  private readonly selectedIn: Int32Array
  /** Pieces with a selected file's bytes: the picker's wanted ones. */
  private wantedPieces = 0
  /** Priority range handles of the 'high' files. */
  private readonly high = new Map<number, number>()
  /** The goal is the selection, not every piece: `download: 'all'`, `files`, or any change since. */
  private set: boolean
  /**
   * `files` undefined: everything with `download: 'all'`, nothing with 'lazy' (reads only). Specs
   * that name no file are skipped here (so= may name more files than there are); lookup() checks
   * the user's own `files` with prioritize(), which refuses them.
   */
  constructor (meta: Metainfo, picker: PiecePicker, download: 'all' | 'lazy', files?: readonly FileSpec[]) {
    this.meta = meta
    this.picker = picker
    this.level = new Uint8Array(meta.files.length)
    this.selectedIn = new Int32Array(meta.pieceCount)
    this.set = download === 'all' || files !== undefined
    const initial = files ?? (download === 'all' ? ['/'] : [])
    for (const spec of initial) for (const file of filesOf(meta, spec)) this.setLevel(file, 1, false)
    for (let piece = 0; piece < meta.pieceCount; piece++) if (this.selectedIn[piece] === 0) picker.setWanted(piece, false)
  }

  /** A selection decides when the torrent is complete (else only every piece does). */
  get active (): boolean {
    return this.set
  }

  /** Sets the priority of the files `spec` names; ENOENT when it names none (unless `tolerant`: so=). */
  prioritize (spec: FileSpec, priority: FilePriority, tolerant = false): void {
    if (!Object.hasOwn(LEVEL, priority)) throw new TrackerlessError('EINVAL', `priority ${JSON.stringify(priority)} is not one of 'skip', 'normal', 'high'`)
    const files = filesOf(this.meta, spec)
    if (files.length === 0 && !tolerant) throw new TrackerlessError('ENOENT', `${JSON.stringify(spec)} is not a file or folder of this torrent; archive.readdir('/', { recursive: true }) lists them`)
    this.set = true
    for (const file of files) this.setLevel(file, LEVEL[priority], true)
  }

  /** The priority of file `index`. */
  priorityOf (index: number): FilePriority {
    return (['skip', 'normal', 'high'] as const)[this.level[index]!]!
  }

  /** Pieces the selection wants (held or not); every piece when no selection is set. */
  wants (piece: number): boolean {
    return !this.set || this.selectedIn[piece]! > 0
  }

  /** Everything selected is held (false with no selection set: then only a full bitfield is). */
  reached (): boolean {
    return this.set && this.picker.wantedRemaining === 0
  }

  /** Share of the wanted pieces held, 0 to 1 (1 when none is wanted). */
  progress (): number {
    const wanted = this.wantedPieces
    return wanted === 0 ? 1 : (wanted - this.picker.wantedRemaining) / wanted
  }

  /** Bytes of the wanted pieces not held yet. */
  missingBytes (have: Bitfield): number {
    const { pieceLength, pieceCount, length } = this.meta
    let missing = 0
    for (let piece = 0; piece < pieceCount; piece++) {
      if (this.wants(piece) && !have.get(piece)) missing += piece === pieceCount - 1 ? length - piece * pieceLength : pieceLength
    }
    return missing
  }

  /** Whether file `index` is created on disk when the selection completes (its zero-length files). */
  selected (index: number): boolean {
    return !this.set || this.level[index]! > 0
  }

  private setLevel (file: number, level: number, live: boolean): void {
    const entry = this.meta.files[file]!
    const before = this.level[file]!
    if (entry.pad || before === level) return
    this.level[file] = level
    const range = pieceRange(this.meta, file)
    if ((before === 0) !== (level === 0) && range !== null) {
      const delta = level === 0 ? -1 : 1
      for (let piece = range[0]; piece <= range[1]; piece++) {
        const count = this.selectedIn[piece]! + delta
        this.selectedIn[piece] = count
        if (count === (delta === 1 ? 1 : 0)) this.wantedPieces += delta
        if (live && (count === 0 || (count === 1 && delta === 1))) this.picker.setWanted(piece, count > 0)
      }
    }
    const handle = this.high.get(file)
    if (handle !== undefined && level !== 2) {
      this.picker.removePriority(handle)
      this.high.delete(file)
    } else if (handle === undefined && level === 2 && range !== null) {
      this.high.set(file, this.picker.addPriority(range[0], range[1]))
    }
  }
}

/** First and last piece holding bytes of `file`; null for an empty file. */
function pieceRange (meta: Metainfo, file: number): [number, number] | null {
  const { offset, length } = meta.files[file]!
  if (length === 0) return null
  return [Math.floor(offset / meta.pieceLength), Math.floor((offset + length - 1) / meta.pieceLength)]
}

/** The files (by index, pad files left out) an archive path or a file index names. */
export function filesOf (meta: Metainfo, spec: FileSpec): number[] {
  if (typeof spec === 'number') {
    return Number.isInteger(spec) && spec >= 0 && spec < meta.files.length && !meta.files[spec]!.pad ? [spec] : []
  }
  const want = segmentsOf(spec)
  const out: number[] = []
  meta.files.forEach((file, index) => {
    if (file.pad) return
    const have = segmentsOf(file.path)
    if (want.length <= have.length && want.every((s, i) => s === have[i])) out.push(index)
  })
  return out
}

