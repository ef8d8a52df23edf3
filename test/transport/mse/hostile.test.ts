import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import net from 'node:net'
import { once } from 'node:events'
import { initiate, respond, selectFrom, RC4, PLAINTEXT, REQ1_WINDOW } from '../../../lib/transport/mse/handshake.js'
import { createKeyPair, cipherOf, req1, req23, KEY_BYTES } from '../../../lib/transport/mse/keys.js'
import { TrackerlessError } from '../../../lib/errors.js'
import { OutgoingStream, type OutgoingOptions } from '../../../lib/transport/mse/outgoing.js'
import { TcpTransport } from '../../../lib/transport/tcp.js'
import { socketPair, responderFor } from './pair.js'

const INFO_HASH = crypto.randomBytes(20)
const P = Buffer.from('FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563', 'hex')

async function rejection (promise: Promise<unknown>): Promise<TrackerlessError> {
  const err = await promise.then(() => assert.fail('the handshake succeeded'), (e: unknown) => e)
  assert.ok(err instanceof TrackerlessError, String(err))
  return err
}

function closed (socket: net.Socket): Promise<void> {
  return new Promise((resolve) => { if (socket.destroyed) resolve(); else socket.once('close', () => resolve()) })
}

/** The first `n` bytes read from a raw socket (an async iterator would destroy it when left). */
async function read (socket: net.Socket, n: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let got = 0
  return await new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk); got += chunk.length
      if (got < n) return
      socket.off('data', onData)
      resolve(Buffer.concat(chunks).subarray(0, n))
    }
    socket.on('data', onData)
  })
}

for (const [name, y] of [['0', Buffer.alloc(KEY_BYTES)], ['1', Buffer.concat([Buffer.alloc(KEY_BYTES - 1), Buffer.from([1])])], ['p-1', Buffer.concat([P.subarray(0, KEY_BYTES - 1), Buffer.from([0x62])])], ['p', P]] as const) {
  test(`the responder drops an initiator whose DH value is ${name}`, async (t) => {
    const [attacker, victim] = await socketPair(t)
    const result = respond(victim, { ...responderFor(INFO_HASH), select: selectFrom(RC4) })
    attacker.write(y)
    const err = await rejection(result)
    assert.equal(err.code, 'EPROTO')
    assert.match(err.message, /invalid Diffie-Hellman public value/)
    await closed(victim)
  })
}

test('the initiator drops a responder whose DH value is p', async (t) => {
  const [victim, attacker] = await socketPair(t)
  const result = initiate(victim, { infoHash: INFO_HASH, provide: RC4 })
  attacker.write(P)
  const err = await rejection(result)
  assert.match(err.message, /invalid Diffie-Hellman public value/)
})

test('the responder drops an initiator that announces 60000 bytes of PadC, without waiting for them', async (t) => {
  const [attacker, victim] = await socketPair(t)
  const result = respond(victim, { ...responderFor(INFO_HASH), select: selectFrom(RC4), timeout: 60_000 })
  const keys = createKeyPair()
  attacker.write(keys.publicKey)
  const s = keys.secret(await read(attacker, KEY_BYTES))
  assert.ok(s !== null)
  const fields = Buffer.alloc(14)
  fields.writeUInt32BE(RC4, 8)
  fields.writeUInt16BE(60_000, 12)
  attacker.write(Buffer.concat([req1(s), req23(INFO_HASH, s), cipherOf('A', s, INFO_HASH).update(fields)]))
  const err = await rejection(result)
  assert.equal(err.code, 'EPROTO')
  assert.match(err.message, /60000 bytes of padding, more than the 512 allowed/)
})

test('the initiator drops a responder that announces 60000 bytes of PadD', async (t) => {
  const [victim, attacker] = await socketPair(t)
  const result = initiate(victim, { infoHash: INFO_HASH, provide: RC4 | PLAINTEXT, timeout: 60_000 })
  const keys = createKeyPair()
  const s = keys.secret(await read(attacker, KEY_BYTES))
  assert.ok(s !== null)
  const fields = Buffer.alloc(14)
  fields.writeUInt32BE(RC4, 8)
  fields.writeUInt16BE(60_000, 12)
  attacker.write(Buffer.concat([keys.publicKey, cipherOf('B', s, INFO_HASH).update(fields)]))
  const err = await rejection(result)
  assert.match(err.message, /60000 bytes of padding, more than the 512 allowed/)
})

test('a peer that stalls after its DH value is closed by the handshake timeout', async (t) => {
  const [attacker, victim] = await socketPair(t)
  const result = respond(victim, { ...responderFor(INFO_HASH), select: selectFrom(RC4), timeout: 300 })
  attacker.write(createKeyPair().publicKey)
  const err = await rejection(result)
  assert.equal(err.code, 'ETIMEDOUT')
  assert.match(err.message, /did not complete it within 300 ms/)
  await closed(victim)
})

test('700 bytes of junk without HASH(\'req1\', S) are refused once the window passes, not at the timeout', async (t) => {
  const [attacker, victim] = await socketPair(t)
  const result = respond(victim, { ...responderFor(INFO_HASH), select: selectFrom(RC4), timeout: 60_000 })
  attacker.write(Buffer.concat([createKeyPair().publicKey, crypto.randomBytes(700 - KEY_BYTES)]))
  const err = await rejection(result)
  assert.equal(err.code, 'EPROTO')
  assert.match(err.message, new RegExp(`sent ${REQ1_WINDOW} bytes without HASH`))
})

test('junk without the encrypted VC is refused by the initiator once its window passes', async (t) => {
  const [victim, attacker] = await socketPair(t)
  const result = initiate(victim, { infoHash: INFO_HASH, provide: RC4, timeout: 60_000 })
  attacker.write(Buffer.concat([createKeyPair().publicKey, crypto.randomBytes(700 - KEY_BYTES)]))
  const err = await rejection(result)
  assert.equal(err.code, 'EPROTO')
  assert.match(err.message, /without the encrypted verification constant/)
})

test('the initiator gives up on a responder that stalls after its DH value, at its own timeout', async (t) => {
  const [victim, attacker] = await socketPair(t)
  const result = initiate(victim, { infoHash: INFO_HASH, provide: RC4, timeout: 300 })
  attacker.write(createKeyPair().publicKey)
  const err = await rejection(result)
  assert.equal(err.code, 'ETIMEDOUT')
  assert.match(err.message, /did not complete it within 300 ms/)
  await closed(victim)
})

/** A TCP server whose every connection is handed to `serve`; counts them. */
async function server (t: TestContext, serve: (socket: net.Socket) => void): Promise<{ port: number, connections: () => number }> {
  let connections = 0
  const s = net.createServer((socket) => { connections++; socket.on('error', () => {}); serve(socket) })
  s.listen(0, '127.0.0.1')
  await once(s, 'listening')
  t.after(() => { s.close() })
  return { port: (s.address() as net.AddressInfo).port, connections: () => connections }
}

/** Dials through an OutgoingStream with `options`, writes a BitTorrent handshake, resolves to how it ended. */
async function dialOut (port: number, options: Pick<OutgoingOptions, 'first' | 'retry' | 'provide' | 'mseTimeout'>, write: Buffer = HANDSHAKE): Promise<{ err: Error | undefined, stream: OutgoingStream }> {
  const stream = new OutgoingStream({ transport: new TcpTransport(), host: '127.0.0.1', port, connectTimeout: 5000, ...options })
  stream.write(write)
  let err: Error | undefined
  stream.on('error', (e: Error) => { err = e })
  await new Promise<void>((resolve) => {
    stream.on('data', () => { stream.destroy(); resolve() })
    stream.once('close', () => resolve())
  })
  return { err, stream }
}

const HANDSHAKE = Buffer.concat([Buffer.from([19]), Buffer.from('BitTorrent protocol'), Buffer.alloc(8), INFO_HASH, Buffer.alloc(20, 3)])

test('encryption \'require\': a responder that sends a garbage DH value is dropped, saying why and what to do', async (t) => {
  const peer = await server(t, (socket) => { socket.write(P) })
  const { err } = await dialOut(peer.port, { first: 'mse', retry: false, provide: RC4 })
  assert.ok(err instanceof TrackerlessError)
  assert.equal(err.code, 'EPROTO')
  assert.match(err.message, /invalid Diffie-Hellman public value.*encryption 'require' insists on: use 'prefer'/)
  assert.equal(peer.connections(), 1)
})

test('encryption \'require\': a responder that stalls mid-handshake is dropped at the handshake\'s timeout, not retried', async (t) => {
  const peer = await server(t, (socket) => { socket.write(createKeyPair().publicKey) })
  const { err } = await dialOut(peer.port, { first: 'mse', retry: false, provide: RC4, mseTimeout: 300 })
  assert.ok(err instanceof TrackerlessError)
  assert.equal(err.code, 'ETIMEDOUT')
  assert.match(err.message, /did not complete it within 300 ms/)
  assert.equal(peer.connections(), 1)
})

test('encryption \'prefer\': a responder that stalls mid-handshake gets a plain-text connection next, which carries the handshake again', async (t) => {
  const seen: Buffer[] = []
  const peer = await server(t, (socket) => {
    socket.once('data', (chunk: Buffer) => {
      seen.push(Buffer.from(chunk))
      if (seen.length === 1) socket.write(createKeyPair().publicKey)
      else socket.write(HANDSHAKE)
    })
  })
  const { err, stream } = await dialOut(peer.port, { first: 'mse', retry: true, provide: RC4 | PLAINTEXT, mseTimeout: 300 })
  assert.equal(err, undefined)
  assert.equal(peer.connections(), 2)
  assert.equal(stream.opening, 'plain')
  assert.deepEqual(seen[1]!.subarray(0, HANDSHAKE.length), HANDSHAKE)
})

test('what waits for a retry is bounded: past 64 KiB written before the peer answers, a dropped attempt is not retried', async (t) => {
  const peer = await server(t, (socket) => { socket.destroy() })
  const { err } = await dialOut(peer.port, { first: 'plain', retry: true, provide: RC4 | PLAINTEXT }, Buffer.concat([HANDSHAKE, Buffer.alloc(70_000)]))
  assert.ok(err !== undefined, 'closed without a reason')
  assert.equal(peer.connections(), 1)
})
