import { publishMutable, republish, type PublishInput, type Published } from './publish.js'
import { targetOf } from './item.js'
import type { MutableDht } from './dht-api.js'

/** BEP44 nodes may drop items after two hours; putting them again every half hour keeps them. */
export const REPUBLISH_INTERVAL = 30 * 60_000

/**
 * A client's published items: puts each new version and puts every item again on a schedule
 * while the client runs, so that a link keeps resolving.
 */
export class Publisher {
  private readonly dht: MutableDht
  private readonly items = new Map<string, Published>()
  private readonly timer: NodeJS.Timeout

  constructor (dht: MutableDht, interval = REPUBLISH_INTERVAL) {
    this.dht = dht
    this.timer = setInterval(() => this.refresh(), interval)
    this.timer.unref()
  }

  async publish (input: PublishInput): Promise<Published> {
    const item = await publishMutable(this.dht, input)
    this.items.set(targetOf(input.publicKey, input.salt).toString('hex'), item)
    return item
  }

  close (): void {
    clearInterval(this.timer)
    this.items.clear()
  }

  private refresh (): void {
    // Best effort: a node that still holds the item refuses the same seq, and that is fine.
    for (const item of this.items.values()) republish(this.dht, item).catch(() => {})
  }
}
