import crypto from 'node:crypto'
import type { PeerStream } from '../types.js'
import { TrackerlessError } from '../../errors.js'
import { Inbox } from './inbox.js'
import { MseStream } from './stream.js'
import { KEY_BYTES, VC, cipherOf, createKeyPair, req1, req23, unmaskReq2 } from './keys.js'

/** crypto_provide / crypto_select bits. */
export const PLAINTEXT = 0x01
export const RC4 = 0x02
export type Method = 'plaintext' | 'rc4'

/** Longest padding a peer may send (PadA..PadD), by the specification. */
export const MAX_PAD = 512
/** The responder gives up finding HASH('req1', S) past Ya + PadA + the hash. */
export const REQ1_WINDOW = KEY_BYTES + MAX_PAD + 20
/** The initiator gives up finding the encrypted VC past Yb + PadB + VC. */
export const VC_WINDOW = KEY_BYTES + MAX_PAD + 8
/** The handshake's own time limit, as long as a plain connection has to send its BitTorrent handshake. */
export const DEFAULT_TIMEOUT = 10_000

export interface MseResult {
  /** Carries the BitTorrent protocol in plain text: decrypted when RC4 was selected. */
  stream: PeerStream
  method: Method
}

export interface InitiatorOptions {
  /** SKEY: the info-hash of the torrent we dial for. */
  infoHash: Uint8Array
  /** Methods offered: RC4 only ('require') or both ('prefer'). */
  provide: number
  /** The initial payload, our BitTorrent handshake, sent in the third message to save a round trip. */
  initialPayload?: Uint8Array
  timeout?: number
}

export interface ResponderOptions {
  /** The info-hash whose HASH('req2', info-hash) is `req2`, among the torrents open, or null. */
  findInfoHash: (req2: Buffer) => Uint8Array | null
  /** Picks one of the offered methods (a crypto_provide bit set), or 0 to refuse them all. */
  select: (provide: number) => number
  timeout?: number
  /** Bytes already read from the stream, to take as its first. */
  head?: Buffer
}

/** Runs the MSE/PE handshake as the side that dialled. */
export async function initiate (stream: PeerStream, options: InitiatorOptions): Promise<MseResult> {
  return await bounded(stream, options.timeout, undefined, async (inbox) => {
    const keys = createKeyPair()
    stream.write(Buffer.concat([keys.publicKey, randomPad()]))
    await inbox.need(KEY_BYTES)
    const s = secretOf(keys, inbox.take(KEY_BYTES))
    const skey = options.infoHash
    const encrypt = cipherOf('A', s, skey)
    const decrypt = cipherOf('B', s, skey)
    const ia = options.initialPayload ?? new Uint8Array(0)
    const padC = randomPad()
    const head = Buffer.alloc(8 + 4 + 2 + padC.length + 2)
    head.writeUInt32BE(options.provide, 8)
    head.writeUInt16BE(padC.length, 12)
    padC.copy(head, 14)
    head.writeUInt16BE(ia.length, 14 + padC.length)
    stream.write(Buffer.concat([req1(s), req23(skey, s), encrypt.update(head), encrypt.update(Buffer.from(ia))]))

    // What the responder's VC looks like encrypted; finding it also leaves `decrypt` past it.
    const mark = decrypt.update(Buffer.from(VC))
    await scan(inbox, mark, MAX_PAD, 'the encrypted verification constant')
    await inbox.need(6)
    const fields = decrypt.update(inbox.take(6))
    const selected = fields.readUInt32BE(0)
    const padD = fields.readUInt16BE(4)
    if ((selected !== PLAINTEXT && selected !== RC4) || (selected & options.provide) === 0) {
      throw protocol(`the peer selected encryption method ${selected}, which we did not offer`)
    }
    if (padD > MAX_PAD) throw protocol(`the peer announced ${padD} bytes of padding, more than the ${MAX_PAD} allowed`)
    await inbox.need(padD)
    decrypt.update(inbox.take(padD))
    const rest = inbox.detach()
    if (selected === RC4) return { stream: new MseStream(stream, encrypt, decrypt, decrypt.update(rest)), method: 'rc4' }
    return { stream: new MseStream(stream, null, null, rest), method: 'plaintext' }
  })
}

/** Runs the MSE/PE handshake as the side that accepted. The initial payload, if any, comes first
 *  out of the returned stream. */
export async function respond (stream: PeerStream, options: ResponderOptions): Promise<MseResult & { infoHash: Uint8Array }> {
  return await bounded(stream, options.timeout, options.head, async (inbox) => {
    await inbox.need(KEY_BYTES)
    const keys = createKeyPair()
    const s = secretOf(keys, inbox.take(KEY_BYTES))
    stream.write(Buffer.concat([keys.publicKey, randomPad()]))

    await scan(inbox, req1(s), MAX_PAD, 'HASH(\'req1\', S)')
    await inbox.need(20)
    const infoHash = options.findInfoHash(unmaskReq2(inbox.take(20), s))
    if (infoHash === null) throw protocol('the peer asked for a torrent that is not open here')
    const decrypt = cipherOf('A', s, infoHash)
    const encrypt = cipherOf('B', s, infoHash)
    await inbox.need(14)
    const fields = decrypt.update(inbox.take(14))
    if (!fields.subarray(0, 8).equals(VC)) throw protocol('the verification constant did not decrypt to zeros')
    const provide = fields.readUInt32BE(8)
    const padC = fields.readUInt16BE(12)
    if (padC > MAX_PAD) throw protocol(`the peer announced ${padC} bytes of padding, more than the ${MAX_PAD} allowed`)
    await inbox.need(padC + 2)
    const iaLength = decrypt.update(inbox.take(padC + 2)).readUInt16BE(padC)
    await inbox.need(iaLength)
    const ia = decrypt.update(inbox.take(iaLength))

    const selected = options.select(provide)
    if (selected !== PLAINTEXT && selected !== RC4) throw protocol(`the peer offered encryption methods ${provide}, none of which our encryption policy allows`)
    const padD = randomPad()
    const reply = Buffer.alloc(8 + 4 + 2 + padD.length)
    reply.writeUInt32BE(selected, 8)
    reply.writeUInt16BE(padD.length, 12)
    padD.copy(reply, 14)
    stream.write(encrypt.update(reply))
    const rest = inbox.detach()
    if (selected === RC4) return { stream: new MseStream(stream, encrypt, decrypt, Buffer.concat([ia, decrypt.update(rest)])), method: 'rc4', infoHash }
    return { stream: new MseStream(stream, null, null, Buffer.concat([ia, rest])), method: 'plaintext', infoHash }
  })
}

/** The responder's pick among what is offered and `allowed`: `first` when it can, else the other. */
export function selectFrom (allowed: number, first: number = RC4): (provide: number) => number {
  return (provide) => (provide & allowed & first) !== 0 ? first : (provide & allowed & (RC4 | PLAINTEXT) & ~first)
}

function secretOf (keys: ReturnType<typeof createKeyPair>, y: Buffer): Buffer {
  const s = keys.secret(y)
  if (s === null) throw protocol('the peer sent an invalid Diffie-Hellman public value (0, 1, p-1 or not below p)')
  return s
}

/** Drops bytes until `mark` has been read, failing when it has not started within `maxSkip` bytes. */
async function scan (inbox: Inbox, mark: Buffer, maxSkip: number, what: string): Promise<void> {
  for (;;) {
    const at = inbox.buf.indexOf(mark)
    if (at !== -1 && at <= maxSkip) { inbox.take(at + mark.length); return }
    if (inbox.buf.length >= maxSkip + mark.length) throw protocol(`the peer sent ${KEY_BYTES + maxSkip + mark.length} bytes without ${what}; not an encrypted BitTorrent connection`)
    await inbox.next()
  }
}

function randomPad (): Buffer {
  return crypto.randomBytes(crypto.randomInt(MAX_PAD + 1))
}

function protocol (message: string): TrackerlessError {
  return new TrackerlessError('EPROTO', `encryption handshake: ${message}`)
}

/** Runs a handshake with a time limit; on any failure the stream is destroyed and the promise
 *  rejects with the reason (an 'error' event too would go unheard once the handshake stops listening). */
async function bounded<T> (stream: PeerStream, timeout = DEFAULT_TIMEOUT, head: Buffer | undefined, run: (inbox: Inbox) => Promise<T>): Promise<T> {
  const inbox = new Inbox(stream, head)
  const timer = setTimeout(() => {
    inbox.fail(new TrackerlessError('ETIMEDOUT', `encryption handshake: the peer did not complete it within ${timeout} ms`))
  }, timeout)
  try {
    return await run(inbox)
  } catch (err) {
    inbox.detach()
    stream.destroy()
    throw err
  } finally {
    clearTimeout(timer)
  }
}
