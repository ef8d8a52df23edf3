import crypto from 'node:crypto'
import type { PeerStream } from '../types.js'
import { TrackerlessError } from '../../errors.js'
import { respond, selectFrom, PLAINTEXT, RC4 } from './handshake.js'
import { req2 } from './keys.js'

/**
 * How a client uses Message Stream Encryption. 'prefer' (the default, as libtorrent's pe_enabled
 * both ways): accept both, dial with MSE offering RC4 and plain text and fall back to a plain
 * connection; as responder, pick plain text when both are offered. 'require': MSE with RC4 only,
 * both ways. 'allow': as 'prefer', but dial in plain text first. 'disable': plain text only.
 */
export type EncryptionPolicy = 'prefer' | 'require' | 'allow' | 'disable'
export const ENCRYPTION_POLICIES: readonly EncryptionPolicy[] = ['prefer', 'require', 'allow', 'disable']
export const DEFAULT_ENCRYPTION: EncryptionPolicy = 'prefer'

/** The BitTorrent handshake's first 20 bytes: a plain-text connection starts with them. */
const PROTOCOL = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol', 'latin1')])

export interface IncomingOptions {
  policy: EncryptionPolicy
  /** The info-hashes of the torrents open now. */
  infoHashes: () => Iterable<Uint8Array>
  timeout: number
}

/**
 * Reads an accepted connection's first bytes and resolves to a stream carrying the BitTorrent
 * protocol in plain text: the connection itself (and the bytes read) when it opens with the
 * BitTorrent handshake, so that plain connections keep reading without a wrapper, or the
 * decrypted stream of an MSE handshake, as the policy allows. Rejects (and closes the
 * connection) otherwise.
 */
export interface Incoming {
  /** The stream the Wire reads: the connection itself for plain text, else the decrypted one. */
  stream: PeerStream
  /** Plain text only: the bytes read to tell, which the Wire must be given first. */
  head: Buffer | null
}

export async function acceptIncoming (stream: PeerStream, options: IncomingOptions): Promise<Incoming> {
  const head = await firstBytes(stream, options.timeout)
  const plain = head.subarray(0, PROTOCOL.length).equals(PROTOCOL.subarray(0, Math.min(head.length, PROTOCOL.length)))
  if (plain) {
    if (options.policy !== 'require') return { stream, head }
    stream.destroy()
    throw new TrackerlessError('EPROTO', 'a peer connected without encryption, which encryption \'require\' refuses')
  }
  if (options.policy === 'disable') {
    stream.destroy()
    throw new TrackerlessError('EPROTO', 'a peer connected with encryption (or garbage), which encryption \'disable\' refuses')
  }
  const result = await respond(stream, {
    head,
    timeout: options.timeout,
    // Plain text when the peer offers both, as libtorrent (prefer_rc4 off): the handshake is
    // hidden all the same, and RC4 halves our throughput (bench/README.md). A peer that offers
    // RC4 alone gets it.
    select: options.policy === 'require' ? selectFrom(RC4) : selectFrom(RC4 | PLAINTEXT, PLAINTEXT),
    findInfoHash: (wanted) => {
      for (const infoHash of options.infoHashes()) if (crypto.timingSafeEqual(req2(infoHash), wanted)) return infoHash
      return null
    }
  })
  return { stream: result.stream, head: null }
}

async function firstBytes (stream: PeerStream, timeout: number): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const done = (err: Error | null, chunk?: Buffer): void => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('close', onClose)
      stream.off('error', onClose)
      if (err !== null) { stream.destroy(); reject(err) } else resolve(Buffer.from(chunk ?? []))
    }
    const onData = (chunk: Buffer): void => { done(null, chunk) }
    const onClose = (): void => { done(new TrackerlessError('EPROTO', 'the peer closed the connection before sending anything')) }
    const timer = setTimeout(() => { done(new TrackerlessError('ETIMEDOUT', `the peer sent nothing within ${timeout} ms`)) }, timeout)
    stream.on('data', onData)
    stream.on('close', onClose)
    stream.on('error', onClose)
  })
}
