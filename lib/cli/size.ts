import { InvalidArgumentError } from 'commander'

const SIZE_UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }

/** `--cache-size 1G`: bytes, with an optional binary suffix K, M, G or T (and i, B: `2MiB`). */
export function parseSize (text: string): number {
  const bytes = parseBytes(text)
  if (bytes === null) throw new InvalidArgumentError('expected a number of bytes, e.g. 1073741824 or 1G')
  return bytes
}

/** `--download-limit 500K`: bytes per second, suffixed as sizes (and `/s` allowed); 0 is no limit. */
export function parseRate (text: string): number {
  const bytes = parseBytes(text.replace(/\/s$/i, ''))
  if (bytes === null) throw new InvalidArgumentError('expected bytes per second, e.g. 500K or 2M (0: no limit)')
  return bytes
}

function parseBytes (text: string): number | null {
  const m = /^(\d{1,15})([kmgt]?)i?b?$/i.exec(text.trim())
  return m === null ? null : Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!
}
