/**
 * Process and machine measurements shared by the benchmark's peers and its orchestrator.
 * Linux only: the machine figures come from /proc.
 */
import { readFileSync } from 'node:fs'

/** User + system CPU seconds of this process, all threads included (getrusage RUSAGE_SELF). */
export function ownCpuSeconds (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}

/**
 * Peak resident set of this process in bytes. Taken from getrusage's ru_maxrss (KiB on Linux),
 * the same source Python's resource module reads, so both peers are measured alike.
 */
export function ownPeakRssBytes (): number {
  return process.resourceUsage().maxRSS * 1024
}

/** The aggregate "cpu" line of /proc/stat, in clock ticks. */
export interface CpuTimes {
  readonly total: number
  /** idle + iowait */
  readonly idle: number
  readonly steal: number
}

/**
 * Reads the machine-wide CPU counters. Fields after steal (guest, guest_nice) are already counted
 * in user and nice, so they are left out of the total.
 */
export function readCpuTimes (): CpuTimes {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? ''
  const fields = line.trim().split(/\s+/)
  if (fields[0] !== 'cpu' || fields.length < 9) {
    throw new Error(`/proc/stat does not start with an aggregate cpu line (got "${line}"); this benchmark needs Linux`)
  }
  const ticks = fields.slice(1, 9).map(Number)
  return { total: ticks.reduce((sum, t) => sum + t, 0), idle: (ticks[3] ?? 0) + (ticks[4] ?? 0), steal: ticks[7] ?? 0 }
}

/** Share of all CPU time between two readings that the hypervisor gave to other guests, in percent. */
export function stealPercent (before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total
  return total > 0 ? (100 * (after.steal - before.steal)) / total : 0
}

/**
 * Share of all CPU time between two readings that was not idle, in percent: the benchmark's own two
 * peers plus whatever else runs on the machine (steal included), to tell a quiet run from a crowded one.
 */
export function busyPercent (before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total
  return total > 0 ? 100 - (100 * (after.idle - before.idle)) / total : 0
}
