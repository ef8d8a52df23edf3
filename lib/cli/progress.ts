import cliProgress from 'cli-progress'
import type { Archive } from '../archive/archive.js'
import type { Output } from './output.js'

export interface ProgressView {
  /** Stops drawing; the bar is left at its last state. */
  stop (): void
}

export const BAR_FORMAT = '{bar} {percentage}% | {done} of {size} | {speed}/s | {peers} | ETA {remaining}'

/** Redraws of the terminal bar, and least interval between JSON progress events. */
const TICK_MS = 500

/**
 * Shows an archive's download: a bar with bytes, speed, peers and ETA on a terminal; a line per
 * tenth done when output is not a terminal; progress events (at most one per tick) with --json.
 */
export function showProgress (archive: Archive, out: Output): ProgressView {
  const speed = new Speed()
  speed.sample(archive.downloaded)
  const sample = (): { bytes: number, speed: number, peers: number } => ({
    bytes: Math.round(archive.progress * archive.length),
    speed: speed.sample(archive.downloaded),
    peers: archive.peers.length
  })

  if (out.interactive) {
    const bar = new cliProgress.SingleBar({
      // Not {eta}: the library fills that token itself (INF, raw seconds) and it overrides our payload.
      format: BAR_FORMAT,
      stream: out.messageStream,
      hideCursor: true,
      etaBuffer: 20
    }, cliProgress.Presets.shades_classic)
    bar.start(archive.length, 0, { done: formatBytes(0), size: formatBytes(archive.length), speed: formatBytes(0), peers: peersText(0), remaining: '-' })
    const update = (): void => {
      const s = sample()
      const remaining = s.speed > 0 ? formatSeconds((archive.length - s.bytes) / s.speed) : '-'
      bar.update(s.bytes, { done: formatBytes(s.bytes), speed: formatBytes(s.speed), peers: peersText(s.peers), remaining })
    }
    update()
    const timer = setInterval(update, TICK_MS)
    return {
      stop: () => {
        clearInterval(timer)
        update()
        bar.stop()
      }
    }
  }

  if (out.json) {
    let lastEmit = 0
    const onProgress = (): void => {
      const now = Date.now()
      if (now - lastEmit < TICK_MS && archive.progress < 1) return
      lastEmit = now
      const s = sample()
      out.emit({ event: 'progress', infoHash: archive.infoHash, progress: archive.progress, bytes: s.bytes, length: archive.length, peers: s.peers, speed: Math.round(s.speed) })
    }
    archive.on('progress', onProgress)
    return { stop: () => archive.off('progress', onProgress) }
  }

  let lastTenth = Math.floor(archive.progress * 10)
  const onProgress = (): void => {
    const tenth = Math.floor(archive.progress * 10)
    if (tenth === lastTenth) return
    lastTenth = tenth
    const s = sample()
    out.info(`${String(tenth * 10).padStart(3)}%  ${formatBytes(s.bytes)} of ${formatBytes(archive.length)}, ${peersText(s.peers)}, ${formatBytes(s.speed)}/s`)
  }
  archive.on('progress', onProgress)
  return { stop: () => archive.off('progress', onProgress) }
}

export const HASH_BAR_FORMAT = 'hashing {bar} {percentage}% | {done} of {size}'

/** Hashing before seeding: a bar on a terminal, nothing otherwise (the "hashing" line stands). */
export function showHashing (out: Output): { update: (hashedBytes: number, totalBytes: number) => void, stop: () => void } {
  if (!out.interactive) return { update: () => {}, stop: () => {} }
  let bar: cliProgress.SingleBar | null = null
  let drawn = 0
  return {
    update: (hashed, total) => {
      if (bar === null) {
        bar = new cliProgress.SingleBar({ format: HASH_BAR_FORMAT, stream: out.messageStream, hideCursor: true }, cliProgress.Presets.shades_classic)
        bar.start(total, 0, { done: formatBytes(0), size: formatBytes(total) })
      }
      // One redraw per 1% at most: hashing reports every 4 MiB read.
      if (hashed < total && hashed - drawn < total / 100) return
      drawn = hashed
      bar.update(hashed, { done: formatBytes(hashed) })
    },
    stop: () => bar?.stop()
  }
}

function peersText (n: number): string {
  return `${n} peer${n === 1 ? '' : 's'}`
}

/** 75 -> "1m15s". */
export function formatSeconds (seconds: number): string {
  const s = Math.ceil(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}

/** Bytes per second over the last few seconds of samples of a growing byte count (over all of
 *  them while there are fewer seconds than that, so a short download shows its real speed). */
class Speed {
  private readonly samples: Array<{ at: number, bytes: number }> = []

  sample (bytes: number, now = Date.now()): number {
    this.samples.push({ at: now, bytes })
    while (this.samples.length > 2 && now - this.samples[1]!.at >= SPEED_WINDOW_MS) this.samples.shift()
    const first = this.samples[0]!
    const seconds = (now - first.at) / 1000
    return seconds > 0 ? (bytes - first.bytes) / seconds : 0
  }
}

const SPEED_WINDOW_MS = 5000
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** 1536 -> "1.5 KiB". */
export function formatBytes (bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`
}
