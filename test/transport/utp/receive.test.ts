import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ReceiveBuffer } from '../../../lib/transport/utp/receive.js'

describe('uTP receive buffer', () => {
  it('drops a sequence number beyond the window without holding it, across the 16-bit wrap', () => {
    const r = new ReceiveBuffer(10_000, 8)
    r.ack = 0xfffe
    const out: string[] = []
    const deliver = (c: Uint8Array): void => { out.push(Buffer.from(c).toString()) }
    assert.equal(r.push((0xfffe + 9) & 0xffff, Buffer.from('far'), false, deliver), false)
    assert.equal(r.window, 10_000)
    assert.equal(r.sack(), undefined)
    assert.equal(r.push(1, Buffer.from('c'), false, deliver), true) // ack + 3: ahead of a gap
    assert.equal(r.window, 9_999)
    assert.deepEqual([...r.sack()!], [0b10, 0, 0, 0]) // bit i names ack + 2 + i
    assert.equal(r.push(0, Buffer.from('b'), false, deliver), true)
    assert.equal(r.push(0xffff, Buffer.from('a'), false, deliver), true)
    assert.deepEqual(out, ['a', 'b', 'c'])
    assert.equal(r.ack, 1)
    assert.equal(r.window, 10_000)
  })
})
