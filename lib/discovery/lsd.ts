import dgram from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { encodeLsdAnnounces, parseLsdAnnounce, LSD_GROUP4, LSD_GROUP6, LSD_PORT } from './lsd-packet.js'
import { formatAddress } from './address.js'

export interface LsdOptions {
  /** Our TCP listen port, which the announces name. */
  port: number
  /**
   * IPv4 address of the interface to announce and listen on (IP_MULTICAST_IF and the group
   * membership), e.g. "127.0.0.1" to keep LSD on the loopback interface. Default: the system's
   * multicast route, plus IPv6 where the host has IPv6 multicast.
   */
  interface?: string
  /** A neighbour announced `infoHash` (40 hex) at `address` ("host:port"). */
  onPeer: (infoHash: string, address: string) => void
}

/** BEP14: re-announce every torrent every five minutes, and never one torrent more than once a minute. */
const REANNOUNCE = 5 * 60_000
const MIN_INTERVAL = 60_000
/** Packets taken from one source address per minute; a flood beyond that is dropped unread. */
const RECEIVE_LIMIT = 30
const MAX_SOURCES = 1024

interface Group { socket: dgram.Socket, address: string, host: string }

/**
 * BEP14 Local Service Discovery: one multicast socket per family for all of a client's torrents.
 * Announces carry a random cookie so that our own, looped back by the kernel, are dropped. It is
 * best effort: a host without a multicast route simply has no LSD.
 */
export class LocalDiscovery {
  private readonly opts: LsdOptions
  private readonly cookie = randomBytes(8).toString('hex')
  private readonly torrents = new Set<string>()
  private readonly lastSent = new Map<string, number>()
  private readonly received = new Map<string, number>()
  private groups: Group[] = []
  private timer: NodeJS.Timeout | null = null
  private flushTimer: NodeJS.Timeout | null = null
  private windowStart = Date.now()
  private closed = false

  constructor (opts: LsdOptions) {
    this.opts = opts
  }

  /** Joins the multicast groups; resolves with how many it could join (0: no LSD on this host). */
  async start (): Promise<number> {
    const v4 = await this.join('udp4', LSD_GROUP4, `${LSD_GROUP4}:${LSD_PORT}`)
    const v6 = this.opts.interface === undefined ? await this.join('udp6', LSD_GROUP6, `[${LSD_GROUP6}]:${LSD_PORT}`) : null
    this.groups = [v4, v6].filter((g): g is Group => g !== null)
    if (this.closed) this.close()
    if (this.groups.length > 0 && !this.closed) {
      this.timer = setInterval(() => this.announce([...this.torrents]), REANNOUNCE)
      this.timer.unref()
      if (this.torrents.size > 0) this.schedule()
    }
    return this.groups.length
  }

  /** Announces `infoHash` (40 hex) now and every five minutes, and listens for its neighbours. */
  add (infoHash: string): void {
    this.torrents.add(infoHash)
    this.schedule()
  }

  remove (infoHash: string): void {
    this.torrents.delete(infoHash)
    this.lastSent.delete(infoHash)
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearInterval(this.timer)
    if (this.flushTimer !== null) clearTimeout(this.flushTimer)
    this.timer = this.flushTimer = null
    for (const g of this.groups) g.socket.close()
    this.groups = []
  }

  /** Torrents added in the same tick go out in one packet. */
  private schedule (): void {
    if (this.flushTimer !== null || this.groups.length === 0) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.announce([...this.torrents])
    }, 0)
  }

  private announce (infoHashes: string[]): void {
    const now = Date.now()
    const due = infoHashes.filter((h) => now - (this.lastSent.get(h) ?? -Infinity) >= MIN_INTERVAL)
    if (due.length === 0) return
    for (const h of due) this.lastSent.set(h, now)
    for (const g of this.groups) {
      for (const packet of encodeLsdAnnounces(g.host, this.opts.port, due, this.cookie)) {
        // A send error (no route right now) only loses this announce; the next one may pass.
        g.socket.send(packet, LSD_PORT, g.address, () => {})
      }
    }
  }

  private onMessage (msg: Buffer, from: dgram.RemoteInfo): void {
    if (!this.allow(from.address)) return
    const announce = parseLsdAnnounce(msg)
    if (announce === null || announce.cookie === this.cookie) return
    const address = formatAddress(from.address, announce.port)
    for (const h of announce.infoHashes) if (this.torrents.has(h)) this.opts.onPeer(h, address)
  }

  private allow (source: string): boolean {
    const now = Date.now()
    if (now - this.windowStart >= 60_000 || this.received.size >= MAX_SOURCES) {
      this.received.clear()
      this.windowStart = now
    }
    const count = (this.received.get(source) ?? 0) + 1
    this.received.set(source, count)
    return count <= RECEIVE_LIMIT
  }

  private join (type: 'udp4' | 'udp6', group: string, host: string): Promise<Group | null> {
    const iface = this.opts.interface
    const socket = dgram.createSocket({ type, reuseAddr: true })
    return new Promise((resolve) => {
      const failed = (): void => {
        socket.close()
        resolve(null)
      }
      socket.once('error', failed)
      socket.bind({ port: LSD_PORT, address: type === 'udp4' ? '0.0.0.0' : '::', exclusive: false }, () => {
        try {
          socket.addMembership(group, iface)
          if (iface !== undefined) socket.setMulticastInterface(iface)
          socket.setMulticastLoopback(true)
        } catch {
          failed()
          return
        }
        socket.off('error', failed)
        socket.on('error', () => {})
        socket.on('message', (msg, from) => this.onMessage(msg, from))
        resolve({ socket, address: group, host })
      })
    })
  }
}
