/**
 * How the client's swarms dial a peer: over which transport, and with or without encryption.
 *
 * Transport: with both on, a peer is dialled over TCP first; one that did not shake hands over a
 * transport is dialled over the other one the next time the peer list retries it, and a transport
 * that shook hands is kept for that address. libtorrent has the same mechanism (a peer that fails
 * over uTP is marked and retried over TCP) but tries uTP first; we try TCP first because our uTP
 * moves a fraction of our TCP rate (bench/README.md), and a peer that only speaks uTP costs one
 * failed dial (a refused or closed TCP connection, usually at once) before it is reached.
 *
 * Encryption (the `encryption` option): 'prefer' opens with MSE/PE offering RC4 and plain text,
 * and 'allow' in plain text; either tries the other opening at once, on a new connection, when
 * the peer drops the first before answering, as libtorrent's pe_enabled does. 'require' opens
 * with MSE offering RC4 alone and never retries; 'disable' dials in plain text only. The opening
 * that got an answer is kept for that address, beside its transport, and tried first next time.
 */
import { Wire } from '../wire/wire.js'
import type { PeerDialer } from '../wire/peer-socket.js'
import { dialWire } from '../wire/peer-socket.js'
import type { Transport, TransportName } from '../transport/types.js'
import { OutgoingStream, type Opening } from '../transport/mse/outgoing.js'
import { PLAINTEXT, RC4 } from '../transport/mse/handshake.js'
import type { EncryptionPolicy } from '../transport/mse/policy.js'
import { formatAddress } from '../discovery/address.js'

/** Addresses whose working transport or opening is remembered; the oldest is forgotten past it. */
const REMEMBERED = 4096
/** ms for an MSE attempt: half of the Wire's 10 s for a handshake, leaving the rest to a retry. */
const MSE_DIAL_TIMEOUT = 5_000

export interface Remembered {
  transport?: TransportName
  opening?: Opening
}

export class Dialler {
  /** What to dial an address with next, where it is not the default. */
  private readonly next = new Map<string, Remembered>()

  /** `transports`: the client's, the default first. */
  constructor (private readonly transports: readonly Transport[], private readonly policy: EncryptionPolicy) {}

  /** Dials as the policy above says for the address, and learns from the outcome. */
  readonly dial: PeerDialer = (host, port, options) => {
    const address = formatAddress(host, port)
    const known = this.next.get(address)
    const transport = this.transports.find((t) => t.name === known?.transport) ?? this.transports[0]!
    let stream: OutgoingStream | null = null
    let wire: Wire
    if (this.policy === 'disable') {
      wire = dialWire(transport, host, port, options)
    } else {
      const { connectTimeout, ...wireOptions } = options
      stream = new OutgoingStream({
        transport,
        host,
        port,
        ...(connectTimeout !== undefined ? { connectTimeout } : {}),
        first: this.policy === 'require' ? 'mse' : known?.opening ?? (this.policy === 'prefer' ? 'mse' : 'plain'),
        retry: this.policy !== 'require',
        provide: this.policy === 'require' ? RC4 : RC4 | PLAINTEXT,
        mseTimeout: MSE_DIAL_TIMEOUT
      })
      wire = new Wire(stream, { ...wireOptions, transport: transport.name })
    }
    let shook = false
    wire.once('handshake', () => {
      shook = true
      this.remember(address, { transport: transport.name, ...(stream !== null ? { opening: stream.opening } : {}) })
    })
    wire.once('close', () => {
      if (shook) return
      const other = this.transports.find((t) => t !== transport)
      if (other !== undefined) this.remember(address, { ...known, transport: other.name })
    })
    return wire
  }

  /** Dials `address` over `transport` next (PEX said the peer speaks it), keeping its opening. */
  prefer (address: string, transport: TransportName): void {
    if (this.transports.length === 1 || !this.transports.some((t) => t.name === transport)) return
    this.remember(address, { ...this.next.get(address), transport })
  }

  /** What the next dial of `address` departs from the defaults with, if anything. */
  remembered (address: string): Readonly<Remembered> | undefined {
    return this.next.get(address)
  }

  private remember (address: string, what: Remembered): void {
    this.next.delete(address)
    const defaultOpening = this.policy === 'allow' ? 'plain' : 'mse'
    const kept: Remembered = {
      ...(what.transport !== undefined && what.transport !== this.transports[0]!.name ? { transport: what.transport } : {}),
      ...(what.opening !== undefined && what.opening !== defaultOpening ? { opening: what.opening } : {})
    }
    if (kept.transport === undefined && kept.opening === undefined) return
    if (this.next.size >= REMEMBERED) this.next.delete(this.next.keys().next().value!)
    this.next.set(address, kept)
  }
}
