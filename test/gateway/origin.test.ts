import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { archiveOrigin, classifyHost, encodeBase32, isForeign } from '../../lib/gateway/origin.js'
import { decodeBase32 } from '../../lib/metainfo/magnet.js'

const POLICY = { bindAddress: '127.0.0.1', allowed: ['gw.lan'] }

test('a public key\'s base32 label fits one DNS label and decodes back to the key', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
    const label = encodeBase32(key)
    assert.match(label, /^[a-z2-7]{52}$/)
    assert.ok(label.length <= 63)
    assert.deepEqual(decodeBase32(label), Buffer.from(key))
  }))
  // RFC 4648 test vector.
  assert.equal(encodeBase32(Buffer.from('foobar')), 'mzxw6ytboi')
})

test('an archive origin names the archive it came from, under any base the gateway answers', () => {
  const hex = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'))
  const pk = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
  const kindKey = fc.oneof(hex.map((key) => ({ type: 'btih' as const, key })), pk.map((key) => ({ type: 'btpk' as const, key })))
  fc.assert(fc.property(kindKey, fc.constantFrom('localhost', '127.0.0.1', '::1', 'gw.lan'), fc.integer({ min: 1, max: 65535 }), ({ type, key }, base, port) => {
    const origin = new URL(archiveOrigin(type, key, base, port))
    assert.deepEqual(classifyHost(origin.host, POLICY), { kind: 'archive', type, key })
  }))
})

test('classifyHost never throws and answers only for its own names', () => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.webUrl().map((u) => new URL(u).host), fc.domain()), (host) => {
    const got = classifyHost(host, POLICY)
    if (got.kind === 'gateway') assert.ok(['localhost', '127.0.0.1', '::1', 'gw.lan'].includes(got.base), host)
    if (got.kind === 'archive') assert.match(host.toLowerCase(), /^[0-9a-z]+\.bt(ih|pk)\.(localhost|gw\.lan)(:\d+)?$/)
  }))
  for (const host of ['localhost', 'LOCALHOST:80', '127.0.0.1:8080', '[::1]:8080', 'gw.lan']) assert.equal(classifyHost(host, POLICY).kind, 'gateway', host)
  for (const host of [undefined, '', 'evil.example', 'localhost.evil.example', 'user@localhost', 'localhost/x', '127.0.0.2', 'x.localhost']) {
    assert.equal(classifyHost(host, POLICY).kind, 'refused', String(host))
  }
})

test('a request is foreign when a page of another site sends it, not when the user or a non-browser does', () => {
  const own = `http://${'ab'.repeat(20)}.btih.localhost:8080`
  for (const headers of [{}, { 'sec-fetch-site': 'none' }, { 'sec-fetch-site': 'same-origin', origin: own }, { origin: 'http://localhost:8080' },
    { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-user': '?1' }]) {
    assert.equal(isForeign(headers, POLICY), false, JSON.stringify(headers))
  }
  for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'no-cors' }, { origin: 'null' },
    { origin: 'http://evil.example' }, { origin: 'https://localhost' }]) {
    assert.equal(isForeign(headers, POLICY), true, JSON.stringify(headers))
  }
})
