/** 20-byte SHA-1 of a torrent's info dictionary. Branded so a peer id cannot be passed for it. */
export type InfoHash = Buffer & { readonly __brand: 'InfoHash' }
/** 20-byte peer id from a handshake. */
export type PeerId = Buffer & { readonly __brand: 'PeerId' }

export function asInfoHash (bytes: Uint8Array): InfoHash {
  if (bytes.byteLength !== 20) throw new RangeError(`an infohash is 20 bytes, got ${bytes.byteLength}`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, 20) as InfoHash
}

export function asPeerId (bytes: Uint8Array): PeerId {
  if (bytes.byteLength !== 20) throw new RangeError(`a peer id is 20 bytes, got ${bytes.byteLength}`)
  return Buffer.from(bytes.buffer, bytes.byteOffset, 20) as PeerId
}
