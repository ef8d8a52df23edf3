/**
 * RC4, which MSE/PE (the Vuze/libtorrent "Message Stream Encryption") uses as its stream cipher.
 * Node's OpenSSL 3 leaves RC4 to the legacy provider, which node does not load, so
 * createCipheriv('rc4') fails; this is the cipher in a few lines, checked against RFC 6229.
 */
/** A Uint32Array view reads bytes in the platform's order; the word path needs the first byte lowest. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

export class Rc4 {
  private readonly s = new Uint8Array(256)
  private i = 0
  private j = 0

  constructor (key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('an RC4 key has 1 to 256 bytes')
    const s = this.s
    for (let n = 0; n < 256; n++) s[n] = n
    let j = 0
    for (let n = 0; n < 256; n++) {
      j = (j + s[n]! + key[n % key.length]!) & 0xff
      const t = s[n]!; s[n] = s[j]!; s[j] = t
    }
  }

  /** XORs the key stream into `data` in place and returns it. */
  update<T extends Uint8Array> (data: T): T {
    const s = this.s
    let i = this.i
    let j = this.j
    let n = 0
    // Four key stream bytes per 32-bit word where the data is aligned for a word view: one read
    // and one write of `data` per four bytes (measured: bench/README.md).
    if (LITTLE_ENDIAN && (data.byteOffset & 3) === 0 && data.length >= 64) {
      const words = new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2)
      for (let w = 0; w < words.length; w++) {
        let key = 0
        for (let b = 0; b < 32; b += 8) {
          i = (i + 1) & 0xff
          const si = s[i]!
          j = (j + si) & 0xff
          const sj = s[j]!
          s[i] = sj; s[j] = si
          key |= s[(si + sj) & 0xff]! << b
        }
        words[w] = words[w]! ^ key
      }
      n = words.length << 2
    }
    for (; n < data.length; n++) {
      i = (i + 1) & 0xff
      const si = s[i]!
      j = (j + si) & 0xff
      const sj = s[j]!
      s[i] = sj; s[j] = si
      data[n] = data[n]! ^ s[(si + sj) & 0xff]!
    }
    this.i = i
    this.j = j
    return data
  }

  /** Advances the key stream by `n` bytes (MSE drops the first 1024, which leak the key). */
  discard (n: number): void {
    this.update(new Uint8Array(n))
  }
}
