import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decodeBounded, decodePrefix, findDictValueSpan, getBytes, getDict, getInt, getList, getString, asDict,
  type DecodeLimits
} from '../../lib/metainfo/bencode.js'
import { throwsCode } from '../helpers/errors.js'

const LIMITS: DecodeLimits = { maxBytes: 1024, maxDepth: 8, code: 'EPROTO' }

const b = (text: string): Buffer => Buffer.from(text, 'latin1')

test('decodes every bencode type', () => {
  const value = decodeBounded(b('d1:ai-5e1:bl0:3:xyze1:cdee'), LIMITS)
  const dict = asDict(value, 'root')
  assert.equal(getInt(dict, 'a'), -5)
  const list = getList(dict, 'b', { required: true })
  assert.equal(list.length, 2)
  assert.deepEqual(getDict(dict, 'c'), {})
})

test('accepts dictionary keys out of order, as found in real torrents', () => {
  const dict = asDict(decodeBounded(b('d1:bi2e1:ai1ee'), LIMITS), 'root')
  assert.equal(getInt(dict, 'a'), 1)
  assert.equal(getInt(dict, 'b'), 2)
})

test('rejects malformed input with the caller\'s code', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /ends in the middle/],
    ['i1', /truncated|malformed/],
    ['l-3:abce', /unexpected byte/],
    ['5:abc', /past the end/],
    ['i-0e', /negative zero/],
    ['i01e', /leading zero/],
    ['05:hello', /leading zero/],
    ['ie', /expected digits/],
    ['i1.5e', /unexpected byte/],
    ['di1ei2ee', /not a string/],
    ['d1:ai1e1:ai2ee', /duplicate/],
    ['d1:bi1e1:ai2e1:bi3ee', /duplicate/],
    ['d1:ae', /ends in the middle|unexpected byte 0x65/],
    ['i1ei2e', /unexpected bytes after/],
    ['x', /unexpected byte/],
    ['l', /ends in the middle/]
  ]
  for (const [input, message] of cases) throwsCode(() => decodeBounded(b(input), LIMITS), 'EPROTO', message)
  throwsCode(() => decodeBounded(b('x'), { ...LIMITS, code: 'EBADTORRENT' }), 'EBADTORRENT')
})

test('rejects over-size input before reading it', () => {
  throwsCode(() => decodeBounded(Buffer.alloc(2000, 0x30), LIMITS), 'EPROTO', /over the limit of 1024/)
})

test('rejects over-deep input without recursing', () => {
  const deep = b('l'.repeat(200_000) + 'e'.repeat(200_000))
  throwsCode(() => decodeBounded(deep, { maxBytes: deep.length, maxDepth: 64, code: 'EBADTORRENT' }), 'EBADTORRENT', /deeper than 64/)
  assert.deepEqual(decodeBounded(b('l'.repeat(8) + 'e'.repeat(8)), LIMITS), [[[[[[[[]]]]]]]])
  throwsCode(() => decodeBounded(b('l'.repeat(9) + 'e'.repeat(9)), LIMITS), 'EPROTO', /deeper than 8/)
})

test('decodePrefix stops at the end of the first value', () => {
  const bytes = b('d8:msg_typei1e5:piecei0eeRAWDATA')
  const { value, end } = decodePrefix(bytes, LIMITS)
  assert.equal(getInt(asDict(value, 'msg'), 'msg_type'), 1)
  assert.equal(bytes.subarray(end).toString(), 'RAWDATA')
  throwsCode(() => decodePrefix(b('d8:msg_typei1e'), LIMITS), 'EPROTO')
})

test('findDictValueSpan gives the exact bytes of a value, even in a non-canonical dict', () => {
  const bytes = b('d4:infod1:zi1e1:ai2ee3:foo3:bare')
  const span = findDictValueSpan(bytes, 'info')
  assert.ok(span !== undefined)
  assert.equal(bytes.subarray(span.start, span.end).toString(), 'd1:zi1e1:ai2ee')
  assert.equal(findDictValueSpan(bytes, 'missing'), undefined)
  const foo = findDictValueSpan(bytes, 'foo')
  assert.ok(foo !== undefined)
  assert.equal(bytes.subarray(foo.start, foo.end).toString(), '3:bar')
  throwsCode(() => findDictValueSpan(b('li1ee'), 'info'), 'EBADTORRENT', /expected a dictionary/)
  throwsCode(() => findDictValueSpan(b('d4:info'), 'info', { maxDepth: 4, code: 'EPROTO' }), 'EPROTO')
})

test('field readers check types and name the field', () => {
  const dict = asDict(decodeBounded(b('d3:inti7e3:str2:hi3:badl1:xe4:utf82:\xff\xfee'), LIMITS), 'root')
  assert.equal(getString(dict, 'str'), 'hi')
  assert.deepEqual(getBytes(dict, 'str'), Buffer.from('hi'))
  assert.equal(getInt(dict, 'absent'), undefined)
  throwsCode(() => getInt(dict, 'absent', { required: true, where: 'info' }), 'EBADTORRENT', /info field "absent" is missing/)
  throwsCode(() => getInt(dict, 'str', { code: 'EPROTO' }), 'EPROTO', /field "str" must be an integer/)
  throwsCode(() => getBytes(dict, 'int'), 'EBADTORRENT', /byte string/)
  throwsCode(() => getDict(dict, 'bad'), 'EBADTORRENT', /dictionary/)
  throwsCode(() => getList(dict, 'int'), 'EBADTORRENT', /list/)
  throwsCode(() => getString(dict, 'utf8'), 'EBADTORRENT', /not valid UTF-8/)
})

test('integers beyond 2^53 are rejected by the reader, not silently rounded', () => {
  const dict = asDict(decodeBounded(b('d1:ai99999999999999999999ee'), LIMITS), 'root')
  throwsCode(() => getInt(dict, 'a'), 'EBADTORRENT', /integer/)
})

test('a "__proto__" key is refused, so no decoded object gets a forged prototype', () => {
  throwsCode(() => decodeBounded(b('d9:__proto__d6:lengthi5eee'), LIMITS), 'EPROTO', /forbidden dictionary key "__proto__"/)
  throwsCode(() => decodeBounded(b('ld1:ai1e9:__proto__0:ee'), LIMITS), 'EPROTO', /__proto__/)
})
