import { fail } from '../errors.js'

/** BEP52 message ids: hash request, hashes, hash reject. */
export const HASH_REQUEST_ID = 21
export const HASHES_ID = 22
export const HASH_REJECT_ID = 23

/** A hash request names a range of one layer of one file's merkle tree, plus the uncles above it. */
export interface HashRange {
  /** The file's merkle root ("pieces root"), 32 bytes. */
  root: Buffer
  /** The layer the range is in: 0 = 16 KiB blocks, log2(piece length / 16 KiB) = the piece layer. */
  baseLayer: number
  /** First hash of the range in that layer. */
  index: number
  /** Number of hashes of the range. */
  length: number
  /** How many layers of uncle hashes above the range the sender wants (or sends). */
  proofLayers: number
}

export type HashMessage =
  | ({ type: 'hash-request' } & HashRange)
  | ({ type: 'hash-reject' } & HashRange)
  | ({ type: 'hashes', hashes: Buffer } & HashRange)

/**
 * Most hashes one request may name: 8192 is what libtorrent accepts (and a 512-piece request,
 * libtorrent's own batch, is well inside it). The bound keeps a hashes message under 265 KiB.
 */
export const MAX_HASH_COUNT = 8192
/**
 * Most proof layers: a file of at most 2^64 bytes has 2^50 leaves of 16 KiB, a tree of 51 layers;
 * 64 leaves room and still bounds a hashes message.
 */
export const MAX_PROOF_LAYERS = 64

const HASH = 32
/** Id, root, base layer, index, length, proof layers. */
export const HASH_HEADER_SIZE = 1 + HASH + 16

/**
 * Whether a range is one we would ever send or serve: 1..8192 hashes, a power of two long and
 * aligned to its length (as BEP52's trees split), at most 64 proof layers. Out-of-range positions
 * inside a given file are the server's to check; this only bounds what any file could be asked.
 */
export function isWellFormedRange (r: HashRange): boolean {
  return r.root.length === HASH &&
    r.length >= 1 && r.length <= MAX_HASH_COUNT && (r.length & (r.length - 1)) === 0 &&
    r.index % r.length === 0 &&
    r.baseLayer <= MAX_PROOF_LAYERS && r.proofLayers <= MAX_PROOF_LAYERS
}

/** The whole frame (length prefix included) for one BEP52 message. */
export function encodeHashMessage (msg: HashMessage): Buffer {
  if (msg.root.length !== HASH) fail('EINVAL', `a pieces root is ${HASH} bytes, not ${msg.root.length}`)
  const hashes = msg.type === 'hashes' ? msg.hashes : null
  if (hashes !== null && hashes.length % HASH !== 0) fail('EINVAL', `hashes are ${HASH} bytes each; ${hashes.length} bytes is not a whole number of them`)
  const size = HASH_HEADER_SIZE + (hashes?.length ?? 0)
  const out = Buffer.allocUnsafe(4 + size)
  out.writeUInt32BE(size, 0)
  out[4] = msg.type === 'hash-request' ? HASH_REQUEST_ID : msg.type === 'hashes' ? HASHES_ID : HASH_REJECT_ID
  msg.root.copy(out, 5)
  out.writeUInt32BE(msg.baseLayer, 37)
  out.writeUInt32BE(msg.index, 41)
  out.writeUInt32BE(msg.length, 45)
  out.writeUInt32BE(msg.proofLayers, 49)
  if (hashes !== null) hashes.copy(out, 53)
  return out
}

/**
 * Decodes one frame body (id plus payload) of id 21, 22 or 23. Field values are taken as sent
 * (tolerant: the server answers a range it cannot serve with a hash reject); only the frame's
 * shape is checked. A hashes message must carry at least `length` hashes and at most `length`
 * plus `proofLayers` (each proof layer adds one uncle), so its size is bounded by the header.
 * Buffers in the result are views into `frame`.
 */
export function decodeHashMessage (frame: Buffer): HashMessage {
  const id = frame[0]
  if (frame.length < HASH_HEADER_SIZE) {
    fail('EPROTO', `a BEP52 message with id ${String(id)} is at least ${HASH_HEADER_SIZE} bytes long but the peer sent ${frame.length}; the peer is broken, drop it`)
  }
  const range: HashRange = {
    root: frame.subarray(1, 1 + HASH),
    baseLayer: frame.readUInt32BE(33),
    index: frame.readUInt32BE(37),
    length: frame.readUInt32BE(41),
    proofLayers: frame.readUInt32BE(45)
  }
  if (id === HASH_REQUEST_ID || id === HASH_REJECT_ID) {
    if (frame.length !== HASH_HEADER_SIZE) {
      fail('EPROTO', `a BEP52 hash ${id === HASH_REQUEST_ID ? 'request' : 'reject'} is ${HASH_HEADER_SIZE} bytes long but the peer sent ${frame.length}; the peer is broken, drop it`)
    }
    return { type: id === HASH_REQUEST_ID ? 'hash-request' : 'hash-reject', ...range }
  }
  if (id !== HASHES_ID) fail('EPROTO', `message id ${String(id)} is not a BEP52 hash message`)
  const body = frame.length - HASH_HEADER_SIZE
  const count = body / HASH
  if (body % HASH !== 0 || count < range.length || count - range.length > Math.min(range.proofLayers, MAX_PROOF_LAYERS) || range.length > MAX_HASH_COUNT) {
    fail('EPROTO', `a BEP52 hashes message for ${range.length} hashes and ${range.proofLayers} proof layers carried ${body} bytes of hashes; the peer is broken, drop it`)
  }
  return { type: 'hashes', ...range, hashes: frame.subarray(HASH_HEADER_SIZE) }
}
