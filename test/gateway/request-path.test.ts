import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import fc from 'fast-check'
import { MAX_REQUEST_PATH, parseGatewayPath, type GatewayPath } from '../../lib/gateway/request-path.js'
import { parseRange } from '../../lib/gateway/range.js'
import { escapeHtml, renderListing } from '../../lib/gateway/listing.js'
import { contentTypeOf } from '../../lib/gateway/content-type.js'

const IH = '0123456789abcdef0123456789abcdef01234567'
const RUNS = { numRuns: 2000, interruptAfterTimeLimit: 30_000 }

function segmentsOf (result: GatewayPath): string[] | null {
  return result.ok && result.kind !== 'home' ? result.segments : null
}

test('names the archive and the path inside it', () => {
  assert.deepEqual(parseGatewayPath('/'), { ok: true, kind: 'home' })
  assert.deepEqual(parseGatewayPath(`/btih/${IH.toUpperCase()}/a/b%20c.txt?x=1#y`),
    { ok: true, kind: 'btih', key: IH, segments: ['a', 'b c.txt'], trailingSlash: false })
  assert.deepEqual(parseGatewayPath(`/btih/${IH}`), { ok: true, kind: 'btih', key: IH, segments: [], trailingSlash: false })
  assert.deepEqual(parseGatewayPath(`/btih/${IH}/docs//`), { ok: true, kind: 'btih', key: IH, segments: ['docs'], trailingSlash: true })
  assert.deepEqual(parseGatewayPath(`/btpk/${'AB'.repeat(32)}/`), { ok: true, kind: 'btpk', key: 'ab'.repeat(32), segments: [], trailingSlash: true })
  const base32 = parseGatewayPath('/btih/AERUKZ4JVPG66AJDIVTYTK6N54ASGRLH/')
  assert.equal(base32.ok && base32.kind === 'btih' ? base32.key : null, IH)
})

test('refuses every spelling of a climb out of the archive, and malformed input', () => {
  for (const bad of [
    `/btih/${IH}/../x`, `/btih/${IH}/a/../../x`, `/btih/${IH}/%2e%2e/x`, `/btih/${IH}/%2E./x`, `/btih/${IH}/.%2e`,
    `/btih/${IH}/./x`, `/btih/${IH}/a%2Fb`, `/btih/${IH}/..%2f..%2fetc`, `/btih/${IH}/a%5Cb`, `/btih/${IH}/a\\b`,
    `/btih/${IH}/..\\x`, `/btih/${IH}/a%00b`, `/btih/${IH}/%zz`, `/btih/${IH}/%`, '/btih/xyz/a', '/btih//a', '/btpk/12/a',
    `btih/${IH}/a`, `http://evil/btih/${IH}/a`, `/btih/${IH}/${'a'.repeat(MAX_REQUEST_PATH)}`
  ]) {
    const result = parseGatewayPath(bad)
    assert.equal(result.ok, false, bad)
    assert.equal(!result.ok && result.status, 400, bad)
  }
  assert.deepEqual(parseGatewayPath('/etc/passwd'), { ok: false, status: 404, reason: 'paths start with /btih/<infohash>/ or /btpk/<public key>/' })
})

test('property: never throws, and what it accepts joins to a path inside the archive', () => {
  const alphabet = fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '0', '\\', 'a', '?', '#', '\u0000', 'é')
  const tricky = fc.array(alphabet, { maxLength: 40 }).map((chars) => `/btih/${IH}/${chars.join('')}`)
  const anything = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 200 }).map((s) => `/btih/${IH}/${s}`))
  fc.assert(fc.property(anything, (target) => {
    const segments = segmentsOf(parseGatewayPath(target))
    if (segments === null) return
    for (const s of segments) {
      assert.ok(s !== '' && s !== '.' && s !== '..', JSON.stringify(s))
      assert.ok(!/[/\\\0]/.test(s), JSON.stringify(s))
    }
    const joined = '/' + segments.join('/')
    assert.equal(path.posix.resolve('/', joined), joined)
  }), RUNS)
})

test('property: any encoded file name round-trips', () => {
  const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    .filter((s) => s !== '.' && s !== '..' && !/[/\\\0]/.test(s))
  fc.assert(fc.property(fc.array(name, { maxLength: 6 }), (names) => {
    const result = parseGatewayPath(`/btih/${IH}/${names.map(encodeURIComponent).join('/')}`)
    assert.deepEqual(segmentsOf(result), names)
  }), RUNS)
})

test('property: a ".." segment is refused however it is percent-encoded', () => {
  const dot = fc.constantFrom('.', '%2e', '%2E')
  const dots = fc.tuple(dot, dot).map(([a, b]) => a + b)
  const name = fc.stringMatching(/^[a-z0-9]{1,8}$/)
  fc.assert(fc.property(fc.array(name, { maxLength: 3 }), dots, fc.array(name, { maxLength: 3 }), (before, up, after) => {
    const result = parseGatewayPath(`/btih/${IH}/${[...before, up, ...after].join('/')}`)
    assert.equal(result.ok, false)
  }), RUNS)
})

test('ranges: start, middle, end, suffix, open end, unsatisfiable, ignored', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'whole' })
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'part', start: 0, end: 9 })
  assert.deepEqual(parseRange('bytes=40-59', 100), { kind: 'part', start: 40, end: 59 })
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'part', start: 90, end: 99 })
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'part', start: 90, end: 99 })
  assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'part', start: 0, end: 99 })
  assert.deepEqual(parseRange('bytes=50-5000', 100), { kind: 'part', start: 50, end: 99 })
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' })
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' })
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' })
  assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'whole' })
  assert.deepEqual(parseRange('items=0-1', 100), { kind: 'whole' })
  assert.deepEqual(parseRange('bytes=9-1', 100), { kind: 'whole' })
})

test('property: a satisfiable range lies inside the body', () => {
  fc.assert(fc.property(fc.string({ maxLength: 30 }), fc.nat(1 << 20), (header, size) => {
    const r = parseRange(`bytes=${header}`, size)
    if (r.kind === 'part') assert.ok(r.start >= 0 && r.start <= r.end && r.end < size)
  }), RUNS)
})

test('listings escape names for the page and encode them for links', () => {
  const html = renderListing('x<y>/', [{ name: '"><script>alert(1)</script>', directory: false, size: 3 }, { name: 'a b', directory: true, size: 0 }], true)
  assert.ok(!html.includes('<script>'))
  assert.ok(html.includes('href="%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"'))
  assert.ok(html.includes('href="a%20b/">a b/</a>'))
  assert.ok(html.includes('href="../"'))
  assert.equal(escapeHtml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;')
})

test('content types come from the extension', () => {
  assert.equal(contentTypeOf('/a/index.HTML'), 'text/html; charset=utf-8')
  assert.equal(contentTypeOf('/clip.webm'), 'video/webm')
  assert.equal(contentTypeOf('/noext'), 'application/octet-stream')
  assert.equal(contentTypeOf('/archive.tar.gz'), 'application/gzip')
})
