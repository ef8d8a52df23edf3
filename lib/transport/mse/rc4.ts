/**
 * RC4, which MSE/PE (the Vuze/libtorrent "Message Stream Encryption") uses as its stream cipher.
 * Node's OpenSSL 3 leaves RC4 to the legacy provider, which node does not load, so
 * createCipheriv('rc4') fails; this is the cipher in a few lines, checked against RFC 6229.
 */
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
    for (let n = 0; n < data.length; n++) {
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
