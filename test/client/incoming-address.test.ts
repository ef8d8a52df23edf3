/**
 * A client listening on every interface ('::') takes IPv4 connections on a dual-stack socket,
 * which names their source in IPv4-mapped form (::ffff:a.b.c.d). Such a peer is the IPv4 peer it
 * is: listed, counted and compared (bans, duplicates, PEX) as a.b.c.d.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { scene } from '../hostile/raw-peer.js'
import { until } from '../helpers/fixtures.js'

test('an IPv4 peer that connects to a client listening on "::" is listed by its IPv4 address, not in ::ffff: form', async (t) => {
  const { seeder, leecher, magnet } = await scene(t, 256 * 1024, { host: '::' })
  const seen = await seeder.lookup(magnet)
  const addresses: string[] = []
  seen.on('peer', (address: string) => addresses.push(address))
  const archive = await leecher.lookup(magnet, { peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
  await archive.readFile('/data.bin', { signal: AbortSignal.timeout(20_000) })
  await until(() => addresses.length > 0, 10_000, 'the seeder saw the leecher')
  assert.ok(addresses.every((a) => /^127\.0\.0\.1:\d+$/.test(a)), `listed as: ${JSON.stringify(addresses)}`)
})
