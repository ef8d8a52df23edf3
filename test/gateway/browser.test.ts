import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'
import { Torrent } from '../../index.js'
import { createGateway, type Gateway } from '../../lib/gateway/gateway.js'
import { tmpDir } from '../helpers/fixtures.js'

const CHROMIUM = '/usr/bin/chromium'
const SITE = fileURLToPath(new URL('../../../test/fixtures/site', import.meta.url))
const LOCAL = { dht: false as const, lsd: false, pex: false, host: '127.0.0.1' }
const WAIT = { timeout: 30_000 }
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required'
]

const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}: apt-get install -y chromium to run the browser test`

test('Chromium opens a site from an archive through the gateway and plays, seeks and keeps playing its video', { skip, timeout: 120_000 }, async (t) => {
  const profile = await tmpDir(t, 'tl-chromium-')
  const seeder = new Torrent(LOCAL)
  const reader = new Torrent(LOCAL)
  let gateway: Gateway | null = null
  let browser: BrowserContext | null = null
  try {
    await Promise.all([seeder.start(), reader.start()])
    const magnet = await seeder.seed(SITE)
    const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
    gateway = createGateway({ client: reader, peers: [`127.0.0.1:${seeder.port}`], timeout: 10_000 })
    const { url } = await gateway.listen(0)
    const videoRequests: Array<{ range: string | undefined, status: number }> = []
    gateway.server.on('request', (req, res) => {
      if (req.url?.endsWith('/clip.webm') === true) res.on('finish', () => videoRequests.push({ range: req.headers.range, status: res.statusCode }))
    })

    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 })
    const page = await browser.newPage()
    // The path URL redirects to the archive's own origin; Chromium resolves *.localhost to the loopback.
    const response = await page.goto(`${url}btih/${infoHash}/`, WAIT)
    assert.equal(response?.status(), 200)
    assert.equal(page.url(), `http://${infoHash}.btih.localhost:${new URL(url).port}/`)
    assert.equal(await page.title(), 'trackerless test site')
    assert.equal(await page.$eval('#title', (el) => getComputedStyle(el).color), 'rgb(12, 34, 56)', 'style.css came from the archive')

    await page.$eval('#clip', (v: HTMLVideoElement) => v.play())
    await page.waitForFunction(() => (document.getElementById('clip') as HTMLVideoElement).currentTime > 0.5, null, WAIT)
    await page.$eval('#clip', (v: HTMLVideoElement) => { v.currentTime = 5 })
    // Playback continued after the seek: time moves on past the seek target by itself.
    await page.waitForFunction(() => {
      const v = document.getElementById('clip') as HTMLVideoElement
      return !v.seeking && v.currentTime > 5.5
    }, null, WAIT)
    const state = await page.$eval('#clip', (v: HTMLVideoElement) => ({ paused: v.paused, error: v.error?.message ?? null, duration: v.duration }))
    assert.deepEqual(state, { paused: false, error: null, duration: 8 })

    assert.ok(videoRequests.length > 0, 'the browser fetched the video through the gateway')
    assert.ok(videoRequests.some((r) => r.status === 206 && r.range !== undefined), `Range requests served: ${JSON.stringify(videoRequests)}`)
  } finally {
    await browser?.close()
    await gateway?.close()
    await Promise.all([seeder.stop(), reader.stop()])
  }
})
