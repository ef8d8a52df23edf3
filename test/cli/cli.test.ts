import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { Cli, OFFLINE, run } from './child.js'
import { writeRandomFile } from '../helpers/fixtures.js'
import { request } from '../helpers/http-request.js'

const COMMANDS = ['get', 'download', 'seed', 'keygen', 'publish', 'ls', 'cat', 'serve', 'demo']

function get (url: string): Promise<{ status: number, body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}

describe('usage', () => {
  test('--help for the program and every command, exit 0', async () => {
    const top = await run(['--help'])
    assert.equal(top.code, 0)
    for (const name of COMMANDS) assert.match(top.stdout.toString(), new RegExp(`^  ${name} `, 'm'))
    for (const name of COMMANDS) {
      const help = await run([name, '--help'])
      assert.equal(help.code, 0, name)
      assert.match(help.stdout.toString(), new RegExp(`^Usage: trackerless ${name} `), name)
      assert.match(help.stdout.toString(), /--json/, name)
    }
  })

  test('bad usage exits 2 with a message', async () => {
    for (const args of [
      ['get'], ['frobnicate'], ['get', 'x', '--frob'], ['get', 'x', '--peer', 'nope'], ['get', 'x', '--port', '70000'],
      ['download', ...OFFLINE], ['download', 'magnet:?xt=urn:btih:' + '0'.repeat(40), '-t', 'x.torrent'],
      ['serve', '--port', 'http'], ['ls', 'x', '--timeout', '-1'], ['publish', 'x', ...OFFLINE]
    ]) {
      const r = await run(args)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, /error/, args.join(' '))
    }
  })

  test('a runtime failure exits 1 with the error message, not a stack', async () => {
    const bad = await run(['get', 'not-a-link-or-file', ...OFFLINE])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^trackerless: .*not a magnet link/m)
    assert.doesNotMatch(bad.stderr, /^\s+at /m)
    const json = await run(['ls', 'not-a-link-or-file', '--json', ...OFFLINE])
    assert.equal(json.code, 1)
    assert.deepEqual(Object.keys(JSON.parse(json.stdout.toString())), ['event', 'code', 'message'])
    assert.equal(JSON.parse(json.stdout.toString()).code, 'EINVALIDURL')
  })

  test('no peer with the metadata: exit 1 after --timeout', async () => {
    const r = await run(['get', '12'.repeat(20), '--timeout', '300', ...OFFLINE])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /trackerless: no peer sent the metadata within 300 ms/)
  })
})

describe('a seeder and its leechers, no discovery at all', () => {
  let dir: string
  let seeder: Cli
  let magnet: string
  let peer: string
  let torrentFile: string

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-cli-'))
    await writeRandomFile(path.join(dir, 'src', 'site', 'big.bin'), 1_500_000)
    await fs.mkdir(path.join(dir, 'src', 'site', 'sub'), { recursive: true })
    await fs.writeFile(path.join(dir, 'src', 'site', 'sub', 'a.txt'), 'hello from the archive\n')
    torrentFile = path.join(dir, 'site.torrent')
    seeder = new Cli(['seed', 'site', '--torrent-out', torrentFile, '--json', '--port', '0', ...OFFLINE], path.join(dir, 'src'))
    const event = JSON.parse(await seeder.line(/"event":"seeding"/)) as { magnet: string, port: number, torrentFile: string, infoHash: string }
    magnet = event.magnet
    peer = `127.0.0.1:${event.port}`
    assert.equal(event.torrentFile, torrentFile)
    assert.match(magnet, new RegExp(`^magnet:\\?xt=urn:btih:${event.infoHash}&xt=urn:btmh:1220[0-9a-f]{64}&dn=site&x\\.pe=127\\.0\\.0\\.1(:|%3A)${event.port}$`))
  })

  after(async () => {
    const end = await seeder.stop('SIGTERM')
    await fs.rm(dir, { recursive: true, force: true })
    assert.equal(end.code, 0, end.stderr)
    assert.match(end.stdout.toString(), /"event":"stopped"/)
  })

  async function assertSameTree (out: string): Promise<void> {
    assert.ok((await fs.readFile(path.join(out, 'site', 'big.bin'))).equals(await fs.readFile(path.join(dir, 'src', 'site', 'big.bin'))))
    assert.equal(await fs.readFile(path.join(out, 'site', 'sub', 'a.txt'), 'utf8'), 'hello from the archive\n')
  }

  test('get X.torrent --peer HOST:PORT -o OUT: plain progress lines off a terminal', async () => {
    const out = path.join(dir, 'out-get')
    const r = await run(['get', torrentFile, '--peer', peer, '-o', out, ...OFFLINE])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.toString(), `${path.join(out, 'site')}\n`)
    assert.match(r.stderr, /found "site": 2 files/)
    assert.match(r.stderr, /^100% {2}1\.4 MiB of 1\.4 MiB, 1 peer, /m)
    assert.doesNotMatch(r.stderr, /\u001b\[/, 'no terminal escapes when stderr is not a terminal')
    await assertSameTree(out)
  })

  test('download -t FILE.torrent and download MAGNET, with --json events', async () => {
    const byFile = path.join(dir, 'out-t')
    const t = await run(['download', '-t', torrentFile, '--peer', peer, '-o', byFile, '--json', ...OFFLINE])
    assert.equal(t.code, 0, t.stderr)
    const events = t.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { event: string, path?: string, progress?: number })
    assert.equal(events[0]!.event, 'metadata')
    assert.equal(events.at(-1)!.event, 'done')
    assert.equal(events.at(-1)!.path, path.join(byFile, 'site'))
    assert.equal(events.filter((e) => e.event === 'progress').at(-1)!.progress, 1)
    assert.equal(t.stderr, '')
    await assertSameTree(byFile)

    const byMagnet = path.join(dir, 'out-m')
    const m = await run(['download', magnet, '-o', byMagnet, '--quiet', ...OFFLINE])
    assert.equal(m.code, 0, m.stderr)
    assert.equal(m.stderr, '')
    await assertSameTree(byMagnet)
  })

  test('ls and cat read the archive without downloading all of it', async () => {
    const ls = await run(['ls', magnet, ...OFFLINE])
    assert.equal(ls.code, 0, ls.stderr)
    assert.equal(ls.stdout.toString(), 'big.bin\nsub/\n')
    const long = await run(['ls', magnet, '-l', '-r', ...OFFLINE])
    assert.equal(long.stdout.toString(), `     1500000  big.bin\n           0  sub/\n          23  sub/a.txt\n`)
    const json = await run(['ls', torrentFile, 'sub', '--json', '--peer', peer, ...OFFLINE])
    assert.deepEqual(JSON.parse(json.stdout.toString()), { event: 'entry', path: '/sub/a.txt', type: 'file', size: 23 })
    const missing = await run(['ls', magnet, '/nope', ...OFFLINE])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^trackerless: ENOENT/m)

    const cat = await run(['cat', magnet, '/sub/a.txt', ...OFFLINE])
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout.toString(), 'hello from the archive\n')
    const big = await run(['cat', magnet, 'big.bin', '--json', ...OFFLINE])
    assert.ok(big.stdout.equals(await fs.readFile(path.join(dir, 'src', 'site', 'big.bin'))))
    const dirCat = await run(['cat', magnet, '/sub', ...OFFLINE])
    assert.equal(dirCat.code, 1)
    assert.match(dirCat.stderr, /EISDIR/)
  })

  test('get -v lists the peers that sent the metadata too, not only later ones', async () => {
    const r = await run(['get', magnet, '-o', path.join(dir, 'out-v'), '-v', ...OFFLINE])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, new RegExp(`^peer ${peer.replace(/\./g, '\\.')}$`, 'm'))
  })

  test('get --seed keeps seeding for others until Ctrl-C', async () => {
    const out = path.join(dir, 'out-seed')
    const relay = new Cli(['get', magnet, '-o', out, '--seed', '--json', ...OFFLINE])
    try {
      await relay.line(/"event":"done"/)
      await assertSameTree(out)
    } finally {
      const end = await relay.stop('SIGINT')
      assert.equal(end.code, 0, end.stderr)
    }
  })

  test('serve: the HTTP gateway over the archive, until Ctrl-C', async () => {
    const serve = new Cli(['serve', '--port', '0', '--peer', peer, '--json', ...OFFLINE])
    try {
      const { url } = JSON.parse(await serve.line(/"event":"listening"/)) as { url: string }
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
      const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!
      const port = new URL(url).port
      const moved = await get(`${url}btih/${infoHash}/sub/a.txt`)
      assert.equal(moved.status, 301)
      const file = await request(Number(port), `http://${infoHash}.btih.localhost:${port}/sub/a.txt`)
      assert.equal(file.status, 200)
      assert.equal(file.body.toString(), 'hello from the archive\n')
      const listing = await request(Number(port), `http://${infoHash}.btih.localhost:${port}/`)
      assert.match(listing.body.toString(), /href="big\.bin"/)
    } finally {
      const end = await serve.stop('SIGINT')
      assert.equal(end.code, 0, end.stderr)
    }
  })
})
