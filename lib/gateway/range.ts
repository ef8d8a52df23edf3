/** What a `Range` header asks of a representation of `size` bytes. */
export type RangeRequest =
  | { kind: 'whole' }
  | { kind: 'part', start: number, end: number }
  | { kind: 'unsatisfiable' }

/**
 * One `bytes=` range (RFC 9110 §14.1.2): `a-b`, `a-` or `-suffix`, `end` clamped to the last
 * byte. A header we do not understand, or one asking for several ranges, is ignored and the
 * whole body served, which the RFC allows; a well-formed range that misses the body is
 * unsatisfiable (416).
 */
export function parseRange (header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' }
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return { kind: 'whole' }
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return { kind: 'whole' }
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' }
    return { kind: 'part', start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Number(last)
  if (last !== '' && end < start) return { kind: 'whole' }
  if (start >= size) return { kind: 'unsatisfiable' }
  return { kind: 'part', start, end: Math.min(end, size - 1) }
}
