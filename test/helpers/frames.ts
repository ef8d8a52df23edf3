import type { Frame } from '../../lib/wire/codec.js'

/** A frame's buffers are views valid only until the next frame; tests that keep frames copy them. */
export function copyFrame (frame: Frame): Frame {
  switch (frame.type) {
    case 'piece': return { ...frame, block: Buffer.from(frame.block) }
    case 'bitfield': return { ...frame, bitfield: Buffer.from(frame.bitfield) }
    case 'extended': return { ...frame, payload: Buffer.from(frame.payload) }
    default: return frame
  }
}
