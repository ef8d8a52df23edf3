/** Network namespaces for tests that multicast (LSD), so that no packet can leave the machine. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { TestContext } from 'node:test'

const run = promisify(execFile)

/** Why a namespace cannot be made here. */
export const NETNS_MISSING = '`ip netns add` is not available (needs root and iproute2): multicast is tested only inside a ' +
  'network namespace of the test\'s own, since from the root namespace it leaves the machine'

/**
 * A new network namespace whose only interface is its loopback, up, with multicast routed to it;
 * or null when `ip netns` cannot make one. It is deleted when the test ends: that hook may run
 * before the children's own, which is harmless, as a deleted namespace lives on, still cut off,
 * until the last process in it exits.
 */
export async function loopbackNamespace (t: TestContext, label: string): Promise<string | null> {
  const name = `tl-${label}-${process.pid}`
  try {
    await run('ip', ['netns', 'add', name])
  } catch {
    return null
  }
  t.after(() => run('ip', ['netns', 'del', name]).then(() => undefined))
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up', 'multicast', 'on'])
  await run('ip', ['-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'])
  return name
}
