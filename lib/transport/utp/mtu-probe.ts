import { isIPv4 } from 'node:net'
import { HEADER_SIZE } from './packet.js'

/**
 * Packet size from the path (BEP29). Everywhere but loopback we keep the safe default: Node cannot
 * set don't-fragment on a UDP socket, so a larger probe would arrive in IP fragments and prove
 * nothing about the path. On loopback the path is the loopback interface (64 KiB on Linux, 16 KiB
 * on macOS), and what is left to learn is whether the peer takes datagrams that large: libtorrent
 * reads into 1500 bytes and truncates anything longer. So toward a loopback address we send one
 * probe, a DATA packet with no payload whose extension chain pads it to the size asked. A peer
 * that truncates it finds the chain cut and drops the packet; we then resend it at header size
 * (carrying no data, nothing is lost) and keep the default. A peer that acks the padded one on its
 * first transmission takes that size, and so does the path.
 */

/** An extension type no uTP implementation defines, so every receiver skips it (BEP29). */
export const EXT_PADDING = 0xfe

export function isLoopback (address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  if (isIPv4(v4)) return v4.startsWith('127.')
  return address === '::1' || address === '0:0:0:0:0:0:0:1'
}

const paddings = new Map<number, Buffer>()

/** The extension chain that fills a datagram of `size` bytes after the 20-byte header; the
 *  header's extension byte must name EXT_PADDING. */
export function padding (size: number): Buffer {
  const cached = paddings.get(size)
  if (cached !== undefined) return cached
  const buf = Buffer.alloc(Math.max(2, size - HEADER_SIZE))
  let at = 0
  while (at < buf.length) {
    const left = buf.length - at
    let len = Math.min(255, left - 2)
    if (left - (len + 2) === 1) len-- // a link takes two bytes at least: never leave one
    at += 2 + len
    buf[at - 2 - len] = at < buf.length ? EXT_PADDING : 0
    buf[at - 1 - len] = len
  }
  if (paddings.size < 4) paddings.set(size, buf)
  return buf
}
