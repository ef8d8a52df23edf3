/**
 * A fixed-length bit set in BitTorrent's order: bit 0 is the high bit of byte 0, so `buffer` can
 * go on the wire as a BITFIELD payload unchanged.
 */
export class Bitfield {
  readonly length: number
  readonly buffer: Buffer
  private ones = 0

  constructor (length: number, buffer?: Uint8Array) {
    this.length = length
    const bytes = (length + 7) >> 3
    this.buffer = Buffer.alloc(bytes)
    if (buffer !== undefined) {
      Buffer.from(buffer.buffer, buffer.byteOffset, Math.min(bytes, buffer.byteLength)).copy(this.buffer)
      // Spare bits past `length` must be zero; a peer that sets them does not get them counted.
      const spare = bytes * 8 - length
      if (spare > 0) this.buffer[bytes - 1]! &= (0xff << spare) & 0xff
      for (const byte of this.buffer) this.ones += POPCOUNT[byte]!
    }
  }

  get (index: number): boolean {
    if (index < 0 || index >= this.length) return false
    return (this.buffer[index >> 3]! & (0x80 >> (index & 7))) !== 0
  }

  /** Returns true when the bit changed. */
  set (index: number, value = true): boolean {
    if (index < 0 || index >= this.length) return false
    const mask = 0x80 >> (index & 7)
    const byte = this.buffer[index >> 3]!
    const had = (byte & mask) !== 0
    if (had === value) return false
    this.buffer[index >> 3] = value ? byte | mask : byte & ~mask
    this.ones += value ? 1 : -1
    return true
  }

  setAll (): void {
    for (let i = 0; i < this.length; i++) this.set(i)
  }

  /** Number of bits set. */
  get count (): number {
    return this.ones
  }

  get full (): boolean {
    return this.ones === this.length
  }

  get empty (): boolean {
    return this.ones === 0
  }

  /** Calls `fn` with each set bit's index, in order, skipping empty bytes. */
  forEachSet (fn: (index: number) => void): void {
    const buffer = this.buffer
    for (let byte = 0; byte < buffer.length; byte++) {
      const value = buffer[byte]!
      if (value === 0) continue
      for (let bit = 0; bit < 8; bit++) {
        if ((value & (0x80 >> bit)) !== 0) fn(byte * 8 + bit)
      }
    }
  }
}

const POPCOUNT = new Uint8Array(256)
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!
