/** A partial piece's block bookkeeping, on its own. Sizes from BEP3's 16 KiB block. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PartialPiece } from '../../lib/swarm/partial-piece.js'
import { BLOCK_SIZE } from '../../lib/wire/messages.js'

/** Three whole blocks and a short last one. */
const LENGTH = 3 * BLOCK_SIZE + 100

const piece = (length = LENGTH): PartialPiece<string> => new PartialPiece<string>(0, length, 'a', Buffer.alloc(length))

test('blocks are handed out once each, in order; the last is short', () => {
  const p = piece()
  assert.deepEqual([p.takeBlock(), p.takeBlock(), p.takeBlock(), p.takeBlock(), p.takeBlock()], [0, 1, 2, 3, -1])
  assert.equal(p.blockLength(3), 100)
})

test('a returned block is handed out again before later ones', () => {
  const p = piece()
  p.takeBlock()
  p.takeBlock()
  p.returnBlock(0)
  assert.equal(p.takeBlock(), 0)
  assert.equal(p.takeBlock(), 2)
})

test('a block asked of two peers (end-game) is free again only when both requests are returned', () => {
  const p = piece()
  const b = p.takeBlock()
  p.askAgain(b)
  assert.equal(p.timesAsked(b), 2)
  p.returnBlock(b)
  assert.notEqual(p.takeBlock(), b, 'the block was handed out while another peer still had it requested')
  p.returnBlock(b)
  assert.equal(p.takeBlock(), b)
})

test('a duplicate block or one of the wrong size is refused; the piece completes with every block once', () => {
  const p = piece()
  for (let b = 0; b < 4; b++) p.takeBlock()
  assert.equal(p.addBlock(0, Buffer.alloc(BLOCK_SIZE - 1), 'a'), false, 'a short block was accepted')
  assert.equal(p.addBlock(3, Buffer.alloc(BLOCK_SIZE), 'a'), false, 'a long last block was accepted')
  assert.equal(p.addBlock(4, Buffer.alloc(BLOCK_SIZE), 'a'), false, 'a block past the end was accepted')
  assert.equal(p.addBlock(0, Buffer.alloc(BLOCK_SIZE, 1), 'a'), true)
  assert.equal(p.addBlock(0, Buffer.alloc(BLOCK_SIZE, 2), 'b'), false, 'a duplicate was accepted')
  for (const b of [1, 2]) p.addBlock(b, Buffer.alloc(BLOCK_SIZE), 'b')
  assert.equal(p.complete, false)
  p.addBlock(3, Buffer.alloc(100), 'b')
  assert.equal(p.complete, true)
  assert.deepEqual([...p.contributors].sort(), ['a', 'b'])
  assert.equal(p.buffer[0], 1, 'the duplicate overwrote the first copy')
})

test('padding (BEP47) is zero-filled and never requested, but one block is always left to request', () => {
  const p = piece()
  p.buffer.fill(9)
  p.fillPadding(BLOCK_SIZE, LENGTH)
  assert.deepEqual([p.takeBlock(), p.takeBlock()], [0, -1])
  assert.equal(p.buffer.subarray(BLOCK_SIZE).every((b) => b === 0), true)
  const all = piece()
  all.fillPadding(0, LENGTH)
  assert.notEqual(all.takeBlock(), -1, 'a piece of padding only has no block left to complete it through')
})
