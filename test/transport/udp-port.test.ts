import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import fc from 'fast-check'
import { classify, UdpPort } from '../../lib/transport/udp-port.js'
import { looksLikeUtp } from '../../lib/transport/utp/packet.js'

const RINFO: dgram.RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 6881, size: 0 }

/** Live UDP sockets of this process (a closed socket leaves the list at the next turn of the loop). */
async function udpSockets (): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 5))
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
}

test('classify: a "d" is the DHT\'s, a uTP header is uTP\'s, anything else no one\'s', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const user = classify(bytes)
    if (bytes[0] === 0x64) assert.equal(user, 'dht')
    else assert.equal(user, looksLikeUtp(bytes) ? 'utp' : null)
  }), { numRuns: 2000 })
  assert.equal(classify(Buffer.from('d1:ad2:id20:')), 'dht')
  // A SYN (type 4, version 1) and a DATA packet, with a full header.
  assert.equal(classify(Buffer.concat([Buffer.from([0x41]), Buffer.alloc(19)])), 'utp')
  assert.equal(classify(Buffer.concat([Buffer.from([0x01]), Buffer.alloc(19)])), 'utp')
  assert.equal(classify(Buffer.alloc(0)), null)
  // Version 2, a type past ST_SYN, a header cut short.
  assert.equal(classify(Buffer.concat([Buffer.from([0x42]), Buffer.alloc(19)])), null)
  assert.equal(classify(Buffer.concat([Buffer.from([0x51]), Buffer.alloc(19)])), null)
  assert.equal(classify(Buffer.from([0x41, 0, 0])), null)
})

test('every datagram reaches exactly one channel or is dropped and counted, without throwing', () => {
  const raw = dgram.createSocket('udp4')
  const port = new UdpPort(raw)
  const dht = port.channel('dht')!
  const utp = port.channel('utp')!
  const got = { dht: 0, utp: 0 }
  dht.on('message', () => { got.dht++ })
  utp.on('message', () => { got.utp++ })
  const arb = fc.oneof(
    fc.uint8Array({ maxLength: 1500 }),
    fc.uint8Array({ minLength: 19, maxLength: 200 }).map((b) => Buffer.concat([Buffer.from([0x64]), b])),
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.uint8Array({ minLength: 19, maxLength: 200 })).map(([type, b]) => Buffer.concat([Buffer.from([(type << 4) | 1]), b]))
  )
  fc.assert(fc.property(arb, (bytes) => {
    const before = got.dht + got.utp + port.dropped.junk + port.dropped.unclaimed
    raw.emit('message', Buffer.from(bytes), RINFO)
    assert.equal(got.dht + got.utp + port.dropped.junk + port.dropped.unclaimed, before + 1)
    assert.equal(port.dropped.unclaimed, 0)
  }), { numRuns: 3000 })
  assert.ok(got.dht > 0 && got.utp > 0 && port.dropped.junk > 0, `each way was taken: ${JSON.stringify({ ...got, ...port.dropped })}`)
  raw.close()
})

test('a user without a channel: its datagrams are dropped as unclaimed, the other\'s still arrive', () => {
  const raw = dgram.createSocket('udp4')
  const port = new UdpPort(raw)
  const utp = port.channel('utp')!
  let utpGot = 0
  utp.on('message', () => { utpGot++ })
  raw.emit('message', Buffer.from('d1:y1:qe'), RINFO)
  raw.emit('message', Buffer.concat([Buffer.from([0x21]), Buffer.alloc(19)]), RINFO)
  assert.deepEqual(port.dropped, { junk: 0, unclaimed: 1 })
  assert.equal(utpGot, 1)
  assert.equal(port.channel('utp'), null, 'a second uTP channel on one port')
  raw.close()
})

test('closing the DHT\'s channel leaves the socket to uTP; the owner\'s close() closes it (no leak, no ERR_SOCKET_DGRAM_NOT_RUNNING)', async () => {
  const before = await udpSockets()
  const port = await UdpPort.bind('udp4', 0, '127.0.0.1')
  const dht = port.channel('dht')!
  const utp = port.channel('utp')!
  const peer = dgram.createSocket('udp4')
  await new Promise<void>((resolve) => peer.bind(0, '127.0.0.1', resolve))
  const arrived = new Promise<Buffer>((resolve) => peer.once('message', resolve))
  assert.equal(await udpSockets(), before + 2)
  // k-rpc-socket's destroy: close() with a callback, which must be called.
  await new Promise<void>((resolve) => dht.close(resolve))
  assert.equal(port.closed, false)
  // Sends of the closed user are dropped; the other one still sends.
  dht.send(Buffer.from('dropped'), 0, 7, peer.address().port, '127.0.0.1')
  utp.send(Buffer.from('still-open'), peer.address().port, '127.0.0.1')
  assert.equal((await arrived).toString(), 'still-open')
  // Its datagrams now go to no one.
  port.socket.emit('message', Buffer.from('d1:y1:qe'), RINFO)
  assert.equal(port.dropped.unclaimed, 1)
  await port.close()
  assert.equal(port.closed, true)
  // A late send (a timer of a user still running) and a second close are no-ops, not throws.
  utp.send(Buffer.from('late'), peer.address().port, '127.0.0.1')
  await new Promise<void>((resolve) => dht.close(resolve))
  await port.close()
  assert.equal(port.channel('dht'), null)
  peer.close()
  assert.equal(await udpSockets(), before)
})

test('the owner may close first: the DHT\'s later sends and close() do not throw', async () => {
  const before = await udpSockets()
  const port = await UdpPort.bind('udp4', 0, '127.0.0.1')
  const dht = port.channel('dht')!
  await port.close()
  dht.send(Buffer.from('d1:y1:qe'), 0, 8, 9, '127.0.0.1', () => assert.fail('a send on a closed port went out'))
  await new Promise<void>((resolve) => dht.close(resolve))
  assert.equal(await udpSockets(), before)
})
