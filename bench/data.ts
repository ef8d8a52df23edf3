/** The benchmarks' test data: written once, and compared byte for byte with what a peer downloaded. */
import { randomFillSync } from 'node:crypto'
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

const MIB = 1 << 20

/** A file of random-looking MiBs: one random MiB with its index stamped in, so every piece differs. */
export async function writeData (file: string, megabytes: number): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(MIB))
  const handle = await open(file, 'w')
  try {
    for (let i = 0; i < megabytes; i++) {
      block.writeUInt32LE(i, 0)
      block.writeUInt32LE(i, MIB / 2)
      await handle.write(block, 0, MIB, i * MIB)
    }
    // Otherwise the kernel writes the file back while the first pair runs, and that pair pays for it.
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

/** Finds the one file called `name` anywhere under `dir`, wherever the client chose to put it. */
export async function findDownloaded (dir: string, name: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const found = entries.filter((e) => e.isFile() && e.name === name).map((e) => join(e.parentPath, e.name))
  if (found.length !== 1) throw new Error(`expected one downloaded ${name} under ${dir}, found ${found.length}`)
  return found[0]!
}

/** Byte-for-byte comparison, cheaper than hashing both files and just as strict. */
export async function sameContent (a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)])
  if (sa.size !== sb.size) return false
  const [ha, hb] = await Promise.all([open(a, 'r'), open(b, 'r')])
  const chunk = 4 * MIB
  const ba = Buffer.allocUnsafe(chunk)
  const bb = Buffer.allocUnsafe(chunk)
  try {
    for (let pos = 0; pos < sa.size; pos += chunk) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, chunk, pos), hb.read(bb, 0, chunk, pos)])
      if (ra.bytesRead !== rb.bytesRead || !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false
    }
    return true
  } finally {
    await Promise.all([ha.close(), hb.close()])
  }
}
