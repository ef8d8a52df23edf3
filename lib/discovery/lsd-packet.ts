/** BEP14 multicast groups and port. */
export const LSD_PORT = 6771
export const LSD_GROUP4 = '239.192.152.143'
export const LSD_GROUP6 = 'ff15::efc0:988f'
/** BEP14: keep a packet under 1400 bytes so that it is never fragmented. */
export const MAX_LSD_PACKET = 1400
/** What we accept from others: a little over the BEP's size, since not every client is careful. */
const MAX_RECEIVED = 4096
const MAX_COOKIE = 64

export interface LsdAnnounce {
  /** The sender's TCP listen port. */
  port: number
  /** Lowercase 40-hex infohashes, at least one. */
  infoHashes: string[]
  cookie?: string
}

/**
 * Our announce for `infoHashes` (40-hex each), split into packets of at most MAX_LSD_PACKET bytes.
 * `host` is the Host header: "239.192.152.143:6771" or "[ff15::efc0:988f]:6771".
 */
export function encodeLsdAnnounces (host: string, port: number, infoHashes: readonly string[], cookie: string): Buffer[] {
  const head = `BT-SEARCH * HTTP/1.1\r\nHost: ${host}\r\nPort: ${port}\r\n`
  const tail = `cookie: ${cookie}\r\n\r\n\r\n`
  const perHash = 'Infohash: \r\n'.length + 40
  const room = Math.max(1, Math.floor((MAX_LSD_PACKET - head.length - tail.length) / perHash))
  const packets: Buffer[] = []
  for (let i = 0; i < infoHashes.length; i += room) {
    const lines = infoHashes.slice(i, i + room).map((h) => `Infohash: ${h}\r\n`).join('')
    packets.push(Buffer.from(head + lines + tail, 'latin1'))
  }
  return packets
}

/**
 * Reads an announce from the network. Anything that is not a well-formed BEP14 announce (wrong
 * request line, no valid port, no valid infohash, oversized) gives null: LSD packets come from
 * anyone on the LAN and are dropped, never thrown over.
 */
export function parseLsdAnnounce (packet: Uint8Array): LsdAnnounce | null {
  if (packet.length > MAX_RECEIVED) return null
  const lines = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).toString('latin1').split(/\r?\n/)
  if (lines[0]?.trim() !== 'BT-SEARCH * HTTP/1.1') return null
  let port = 0
  let cookie: string | undefined
  const infoHashes = new Set<string>()
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'port' && /^[0-9]{1,5}$/.test(value)) {
      port = Number(value)
    } else if (name === 'infohash' && /^[0-9a-fA-F]{40}$/.test(value)) {
      infoHashes.add(value.toLowerCase())
    } else if (name === 'cookie' && value.length <= MAX_COOKIE) {
      cookie = value
    }
  }
  if (port < 1 || port > 65535 || infoHashes.size === 0) return null
  return { port, infoHashes: [...infoHashes], ...(cookie !== undefined ? { cookie } : {}) }
}
