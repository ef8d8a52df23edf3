import dgram from 'node:dgram'

const SSDP_ADDRESS = '239.255.255.250'
const SSDP_PORT = 1900
/** IGD:2 devices answer IGD:1 searches too (UPnP Device Architecture's backward compatibility). */
const SEARCH_TARGET = 'urn:schemas-upnp-org:device:InternetGatewayDevice:1'
/** The MX we send: devices answer within this many seconds. */
const MX = 2
/** An answer longer than this is not an SSDP answer. */
const MAX_ANSWER = 2048

/**
 * Looks for a UPnP Internet Gateway Device on the LAN (SSDP M-SEARCH, sent twice for UDP loss)
 * and resolves with the first answer's description URL, or null after `ms`. Answers are untrusted:
 * the URL must be plain http at the very address the answer came from, so that a host on the LAN
 * cannot send us to fetch from a third one.
 */
export async function findGateway (ms = (MX + 1) * 1000, target = { address: SSDP_ADDRESS, port: SSDP_PORT }): Promise<URL | null> {
  const socket = dgram.createSocket('udp4')
  socket.on('error', () => {})
  const timers: NodeJS.Timeout[] = []
  try {
    return await new Promise<URL | null>((resolve) => {
      timers.push(setTimeout(() => resolve(null), ms))
      socket.on('message', (msg, from) => {
        const location = parseAnswer(msg)
        if (location !== null && location.hostname === from.address) resolve(location)
      })
      const search = Buffer.from(`M-SEARCH * HTTP/1.1\r\nHOST: ${SSDP_ADDRESS}:${SSDP_PORT}\r\nMAN: "ssdp:discover"\r\nMX: ${MX}\r\nST: ${SEARCH_TARGET}\r\n\r\n`)
      socket.bind(0, () => {
        socket.send(search, target.port, target.address, () => {})
        timers.push(setTimeout(() => socket.send(search, target.port, target.address, () => {}), 500))
      })
    })
  } finally {
    for (const timer of timers) clearTimeout(timer)
    socket.close()
  }
}

/** The LOCATION of an SSDP search answer ("HTTP/1.1 200 OK" with an http URL); null for anything else. */
export function parseAnswer (msg: Uint8Array): URL | null {
  if (msg.length > MAX_ANSWER) return null
  const lines = Buffer.from(msg).toString('latin1').split('\r\n')
  if (!/^HTTP\/1\.[01] 200\b/.test(lines[0] ?? '')) return null
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'location') continue
    try {
      const url = new URL(line.slice(colon + 1).trim())
      return url.protocol === 'http:' && url.username === '' && url.password === '' ? url : null
    } catch {
      return null
    }
  }
  return null
}
