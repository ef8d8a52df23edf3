import { test } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import fc from 'fast-check'
import { decodePcpReply, encodeMap } from '../../lib/nat/pcp-packet.js'
import { PcpClient } from '../../lib/nat/pcp.js'

test('PCP replies: any bytes decode to null or to a version 2 response, never a throw; a MAP request answered as-is decodes to its own fields', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
    const reply = decodePcpReply(bytes)
    if (reply === null) return
    assert.ok(bytes.length >= 24 && bytes[0] === 2 && (bytes[1]! & 0x80) !== 0)
    if (reply.op === 'map') assert.ok(bytes.length >= 60 && reply.nonce.length === 12)
  }), { numRuns: 2000 })
  fc.assert(fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.constantFrom('tcp' as const, 'udp' as const), fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 65535 }), fc.nat(), (nonce, protocol, internal, external, lifetime) => {
    const answer = encodeMap('192.168.1.2', nonce, protocol, internal, external, lifetime)
    answer[1] = 0x81
    const reply = decodePcpReply(answer)
    assert.ok(reply?.op === 'map')
    assert.deepEqual([reply.nonce, reply.protocol, reply.internalPort, reply.externalPort, reply.lifetime, reply.externalAddress],
      [Buffer.from(nonce), protocol === 'tcp' ? 6 : 17, internal, external, lifetime, '0.0.0.0'])
  }))
})

test('a PCP answer that does not carry our mapping\'s nonce is ignored (RFC 6887 §11.1: an off-path forger does not know it)', async (t) => {
  const server = dgram.createSocket('udp4')
  t.after(() => server.close())
  server.on('message', (msg, from) => {
    if (msg[1] === 0) { const a = Buffer.alloc(24); a[0] = 2; a[1] = 0x80; server.send(a, from.port, from.address); return }
    const forged = Buffer.from(msg)
    forged[1] = 0x81
    forged[24] = forged[24]! ^ 0xff
    forged.writeUInt16BE(1, 42)
    server.send(forged, from.port, from.address)
    const real = Buffer.from(msg)
    real[1] = 0x81
    real.writeUInt32BE(0xffff, 44 + 8)
    real.writeUInt32BE(0x64400009, 44 + 12)
    server.send(real, from.port, from.address)
  })
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  const client = new PcpClient('127.0.0.1', server.address().port)
  t.after(() => client.close())
  await client.announce()
  const mapped = await client.map('tcp', 6881, 6881, 7200)
  assert.deepEqual(mapped, { externalPort: 6881, lifetime: 7200, externalAddress: '100.64.0.9' })
})
