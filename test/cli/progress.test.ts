import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BAR_FORMAT, formatSeconds } from '../../lib/cli/progress.js'

test('the bar shows our ETA, not the bar library\'s own {eta} token (which printed INF and raw seconds over ours)', () => {
  assert.doesNotMatch(BAR_FORMAT, /\{eta\}|\{eta_formatted\}/)
  assert.match(BAR_FORMAT, /ETA \{remaining\}/)
})

test('ETA text: seconds, then minutes and seconds, then hours and minutes', () => {
  assert.equal(formatSeconds(0.2), '1s')
  assert.equal(formatSeconds(59), '59s')
  assert.equal(formatSeconds(80), '1m20s')
  assert.equal(formatSeconds(3599), '59m59s')
  assert.equal(formatSeconds(3600 * 2 + 65), '2h01m')
})
