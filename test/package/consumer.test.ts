import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository: dist/test/package/ is three levels under it. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface Ran { code: number, stdout: string, stderr: string }

function sh (file: string, args: string[], cwd: string, ms = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: ms, maxBuffer: 16 << 20, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' } },
      (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }))
  })
}

function ok (r: Ran, what: string): string {
  assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

// A new user's view: the packed tarball, installed into an empty project, nothing from this checkout
// but the tarball (and the @types/node and TypeScript a consumer would bring).
let project: string

before(async () => {
  project = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-consumer-'))
  // --ignore-scripts: dist/ is built already (npm test builds first); `prepare` would rebuild it under the running tests.
  const tarball = ok(await sh(NPM, ['pack', '--ignore-scripts', '--silent', '--pack-destination', project], ROOT), 'npm pack').trim().split('\n').pop()!
  await fs.writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }))
  ok(await sh(NPM, ['install', '--prefer-offline', '--no-package-lock', path.join(project, tarball)], project, 120_000), 'npm install')
})

after(async () => {
  await fs.rm(project, { recursive: true, force: true })
})

test('the package has what the README promises: LICENSE, docs/SPEC.md, dist; no tests', async () => {
  const pkg = path.join(project, 'node_modules', 'trackerless')
  for (const f of ['LICENSE', 'README.md', 'docs/SPEC.md', 'dist/index.js', 'dist/index.d.ts', 'dist/lib/cli/main.js']) await fs.access(path.join(pkg, f))
  await assert.rejects(fs.access(path.join(pkg, 'dist', 'test')))
  const readme = await fs.readFile(path.join(pkg, 'README.md'), 'utf8')
  for (const [, link] of readme.matchAll(/\]\(([^)#]+)[^)]*\)/g)) {
    if (/^https?:/.test(link!)) continue
    await fs.access(path.join(pkg, link!)).catch(() => assert.fail(`README links ${link}, which the package does not ship`))
  }
})

test('require() and import load the same API', async () => {
  // require() of an ES module with a default export adds __esModule (node's CommonJS interop marker).
  const probe = 'const t = LOAD; if (typeof t.Torrent !== "function" || typeof t.TrackerlessError !== "function" || typeof t.createGateway !== "function") process.exit(3); console.log(Object.keys(t).filter((k) => k !== "__esModule").sort().join(","), t.default === t.Torrent)'
  const cjs = ok(await sh(process.execPath, ['-e', probe.replace('LOAD', 'require("trackerless")')], project), 'require')
  const esm = ok(await sh(process.execPath, ['--input-type=module', '-e', probe.replace('LOAD', 'await import("trackerless")').replace(/^/, '')], project), 'import')
  assert.equal(cjs, esm)
  assert.match(cjs, /Torrent.* true\n$/, 'the default export is the Torrent class')
})

test('a strict TypeScript consumer type-checks without skipLibCheck', async () => {
  await fs.writeFile(path.join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, noEmit: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022',
      exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true,
      types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')]
    },
    files: ['consumer.mts']
  }))
  await fs.writeFile(path.join(project, 'consumer.mts'), [
    "import { Torrent, TrackerlessError, type Archive, type StorageFactory, type ErrorCode } from 'trackerless'",
    'const client: Torrent = new Torrent({ dht: false, lsd: false })',
    'const storage: StorageFactory | undefined = undefined',
    'const code: ErrorCode = new TrackerlessError(\'ENOENT\', \'x\').code',
    'export async function size (url: string): Promise<number> { const a: Archive = await client.lookup(url); return a.length }',
    'console.log(storage, code)'
  ].join('\n'))
  ok(await sh(process.execPath, [TSC, '-p', project], project), 'tsc')
})

test('the bin: --help and the offline demo', async () => {
  const bin = path.join(project, 'node_modules', '.bin', 'trackerless')
  assert.match(ok(await sh(bin, ['--help'], project), 'trackerless --help'), /^Usage: trackerless /)
  assert.match(ok(await sh(bin, ['demo'], project), 'trackerless demo'), /./s)
})
