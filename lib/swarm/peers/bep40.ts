import net from 'node:net'
import { crc32c } from '../../discovery/bep42.js'
import { unmapped } from '../../discovery/address.js'
import { ipToBytes } from '../../wire/compact-ip.js'

/**
 * BEP40 canonical peer priority of the connection between two endpoints: the same number at both
 * ends, so that every peer of a swarm prefers the same connections and a newcomer, or a flood of
 * addresses from one network, cannot crowd the others out. Null when the two cannot be compared
 * (a host name, or one IPv4 and one IPv6 address).
 *
 * As libtorrent: the same IP hashes the two ports; else the IPs masked by how close they are
 * (IPv4: FF.FF.55.55 in different /16s, FF.FF.FF.55 in one /16, whole within a /24; IPv6 the
 * same on its first 64 bits, counting /32 and /48), sorted, concatenated.
 */
export function peerPriority (a: { host: string, port: number }, b: { host: string, port: number }): number | null {
  const x = bytesOf(a.host)
  const y = bytesOf(b.host)
  if (x === null || y === null || x.length !== y.length) return null
  if (Buffer.compare(x, y) === 0) {
    const ports = Buffer.alloc(4)
    ports.writeUInt16BE(Math.min(a.port, b.port), 0)
    ports.writeUInt16BE(Math.max(a.port, b.port), 2)
    return crc32c(ports)
  }
  // The mask covers 4 bytes of IPv4 and the first 8 of IPv6; the third quarter and the last
  // are the /16 and /24 boundaries of IPv4, the /32 and /48 ones of IPv6.
  const unit = x.length === 4 ? 1 : 2
  const mask = Buffer.alloc(x.length, 0xff)
  const same16 = x.subarray(0, 2 * unit).equals(y.subarray(0, 2 * unit))
  const same24 = x.subarray(0, 3 * unit).equals(y.subarray(0, 3 * unit))
  if (!same16) mask.fill(0x55, 2 * unit, 4 * unit)
  else if (!same24) mask.fill(0x55, 3 * unit, 4 * unit)
  const mx = Buffer.from(x.map((byte, i) => byte & mask[i]!))
  const my = Buffer.from(y.map((byte, i) => byte & mask[i]!))
  const [lo, hi] = Buffer.compare(mx, my) <= 0 ? [mx, my] : [my, mx]
  return crc32c(Buffer.concat([lo, hi]))
}

/** IPv4-mapped IPv6 (as dual-stack sockets report IPv4 peers) compares as the IPv4 address. */
function bytesOf (host: string): Buffer | null {
  const ip = unmapped(host)
  return net.isIP(ip) !== 0 ? ipToBytes(ip) : null
}
