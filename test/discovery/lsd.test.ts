import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import readline from 'node:readline'
import { promisify } from 'node:util'

const run = promisify(execFile)
const CHILD = fileURLToPath(new URL('./lsd-child.js', import.meta.url))

/**
 * LSD multicasts, and in the root network namespace the multicast route leaves the machine: these
 * tests run only inside a namespace of their own, whose only interface is its loopback.
 */
async function namespace (): Promise<string | null> {
  const name = `tl-lsd-${process.pid}`
  try {
    await run('ip', ['netns', 'add', name])
  } catch {
    return null
  }
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up', 'multicast', 'on'])
    await run('ip', ['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'])
  } catch (err) {
    await run('ip', ['netns', 'del', name])
    throw err
  }
  return name
}

interface Child { proc: ChildProcess, next: () => Promise<Record<string, unknown>> }

function child (ns: string, args: string[]): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const queue: string[] = []
  const waiting: Array<(line: string) => void> = []
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    const w = waiting.shift()
    if (w !== undefined) w(line)
    else queue.push(line)
  })
  const next = (): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} child said nothing within 30 s`)), 30_000)
    const take = (line: string): void => { clearTimeout(timer); resolve(JSON.parse(line) as Record<string, unknown>) }
    const line = queue.shift()
    if (line !== undefined) take(line)
    else waiting.push(take)
  })
  return { proc, next }
}

test('two clients find each other by LSD alone; a third announcing another infohash is not connected to it', async (t) => {
  const ns = await namespace()
  if (ns === null) {
    t.skip('`ip netns add` is not available (needs root and iproute2): LSD is tested only inside a network namespace, since multicast from the root namespace leaves the machine')
    return
  }
  const children: ChildProcess[] = []
  t.after(async () => {
    for (const c of children) c.kill()
    await Promise.all(children.map((c) => c.exitCode !== null ? null : new Promise((resolve) => c.once('exit', resolve))))
    await run('ip', ['netns', 'del', ns])
  })
  const start = (args: string[]): Child => {
    const c = child(ns, args)
    children.push(c.proc)
    return c
  }

  const content = randomBytes(50_000).toString('hex')
  const seeder = start(['seed', content])
  const { magnet, port } = await seeder.next() as { magnet: string, port: number }
  const infoHash = /btih:([0-9a-f]{40})/.exec(magnet)![1]!

  const getter = start(['get', infoHash])
  const got = await getter.next() as { content: string, peers: string[] }
  assert.equal(got.content, content)
  assert.ok(got.peers.length === 1, `the getter has only the seeder as a peer: ${got.peers.join(', ')}`)

  // The probe announces another infohash on its first port, then ours on its second. The seeder
  // reads them in order, so once it dials the second port it has read, and ignored, the first.
  const other = randomBytes(20).toString('hex')
  const probe = start(['probe', other, infoHash])
  await probe.next()
  probe.proc.stdin!.write('announce\n')
  let report: { first: string[], second: string[] } = { first: [], second: [] }
  for (let i = 0; i < 300 && report.second.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    probe.proc.stdin!.write('report\n')
    report = await probe.next() as typeof report
  }
  assert.deepEqual(report.second, [infoHash], 'the seeder dialled the peer that announced its infohash')
  assert.deepEqual(report.first, [], 'nobody dialled the peer that announced only another infohash')
  assert.ok(port > 0)
})
