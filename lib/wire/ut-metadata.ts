import bencode from 'bencode'
import { fail } from '../errors.js'
import { decodeDict, field, isInt, MAX_METADATA_SIZE } from './extended.js'
import { BLOCK_SIZE, type MetadataMessage } from './messages.js'

/** Metadata of at most MAX_METADATA_SIZE bytes has at most this many 16 KiB pieces. */
const MAX_PIECES = MAX_METADATA_SIZE / BLOCK_SIZE
/** The dictionary in front of the data holds three small integers; anything bigger is abuse. */
const MAX_DICT = 1024

const TYPE_ID = { request: 0, data: 1, reject: 2 } as const

/** One buffer for requests and rejects; for data, the dictionary followed by the data. */
export function encodeMetadataMessage (msg: MetadataMessage): Buffer {
  const dict = msg.type === 'data'
    ? { msg_type: TYPE_ID.data, piece: msg.piece, total_size: msg.totalSize }
    : { msg_type: TYPE_ID[msg.type], piece: msg.piece }
  const head = Buffer.from(bencode.encode(dict))
  return msg.type === 'data' ? Buffer.concat([head, msg.data]) : head
}

/**
 * Decodes a BEP9 payload. Returns null for a message type this library does not know (BEP9 says
 * to ignore them). A data message's `data` is a view of `payload`. Out-of-range fields are EPROTO.
 */
export function decodeMetadataMessage (payload: Buffer): MetadataMessage | null {
  const { dict, end } = decodeDict(payload, 'ut_metadata message', MAX_DICT)
  const type = field(dict, 'msg_type')
  const piece = field(dict, 'piece')
  if (!isInt(type)) bad('no msg_type')
  if (!isInt(piece) || piece < 0 || piece >= MAX_PIECES) bad(`piece ${String(piece)}`)
  switch (type) {
    case TYPE_ID.request: return { type: 'request', piece }
    case TYPE_ID.reject: return { type: 'reject', piece }
    case TYPE_ID.data: {
      const totalSize = field(dict, 'total_size')
      if (!isInt(totalSize) || totalSize < 1 || totalSize > MAX_METADATA_SIZE) bad(`total_size ${String(totalSize)}`)
      const data = payload.subarray(end)
      if (data.length > BLOCK_SIZE) bad(`${data.length} bytes of data`)
      return { type: 'data', piece, totalSize, data }
    }
    default: return null
  }
}

function bad (what: string): never {
  fail('EPROTO', `the peer sent a ut_metadata message with ${what}, outside BEP9's limits; drop the peer`)
}
