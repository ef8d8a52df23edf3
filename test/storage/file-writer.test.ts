import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { sharedBuffer, writeInBackground } from '../../lib/storage/file-writer.js'

function write (fd: number, data: Uint8Array, position: number): Promise<void> {
  return new Promise((resolve, reject) => writeInBackground(fd, data, position, (err) => err === null ? resolve() : reject(err)))
}

async function tmpFile (t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'trackerless-writer-'))
  t.after(() => fs.rm(dir, { recursive: true, force: true }))
  return path.join(dir, 'f.bin')
}

test('shared and ordinary buffers, larger than a write slice and at odd offsets, land whole', async (t) => {
  const file = await tmpFile(t)
  const handle = await fs.open(file, 'w+')
  try {
    const shared = sharedBuffer((1 << 20) + 5)
    randomBytes(shared.length).copy(shared)
    const ordinary = randomBytes(50_001)
    // A view into the middle of a shared buffer is written from its own offset, not the buffer's start.
    await Promise.all([write(handle.fd, shared.subarray(3), 7), write(handle.fd, ordinary, 7 + shared.length - 3)])
    const back = await fs.readFile(file)
    assert.equal(back.length, 7 + shared.length - 3 + ordinary.length)
    assert.deepEqual(back.subarray(7, 7 + shared.length - 3), shared.subarray(3))
    assert.deepEqual(back.subarray(7 + shared.length - 3), ordinary)
  } finally {
    await handle.close()
  }
})

test('a failed write reports the system error code, and later writes still work', async (t) => {
  const file = await tmpFile(t)
  await fs.writeFile(file, '')
  const readOnly = await fs.open(file, 'r')
  const writable = await fs.open(file, 'r+')
  try {
    await assert.rejects(write(readOnly.fd, Buffer.from('no'), 0), { code: 'EBADF' })
    await write(writable.fd, Buffer.from('yes'), 0)
    assert.equal(await fs.readFile(file, 'utf8'), 'yes')
  } finally {
    await readOnly.close()
    await writable.close()
  }
})

/** Runs an ES module script in a new node process; resolves to its stdout once it exits by itself. */
async function runScript (script: string): Promise<string> {
  const { execFile } = await import('node:child_process')
  return new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout) => err === null ? resolve(stdout) : reject(err))
  })
}

const WRITER_URL = JSON.stringify(new URL('../../lib/storage/file-writer.js', import.meta.url).href)

test('a process that started the writer and never wrote exits by itself', async () => {
  assert.equal(await runScript(`import { startWriter } from ${WRITER_URL}\nstartWriter()\nprocess.stdout.write('started')`), 'started')
})

test('a process whose writer was started ahead and then wrote exits by itself: the idle thread keeps nothing alive', async () => {
  const script = `
    import { startWriter, writeInBackground } from ${WRITER_URL}
    import fs from 'node:fs'
    import os from 'node:os'
    import path from 'node:path'
    startWriter()
    startWriter()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trackerless-writer-'))
    const fd = fs.openSync(path.join(dir, 'f'), 'w')
    writeInBackground(fd, Buffer.from('written'), 0, (err) => {
      fs.closeSync(fd)
      const back = fs.readFileSync(path.join(dir, 'f'), 'utf8')
      fs.rmSync(dir, { recursive: true })
      process.stdout.write(err === null ? back : String(err))
    })`
  assert.equal(await runScript(script), 'written')
})
