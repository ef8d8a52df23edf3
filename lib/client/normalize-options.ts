import { createHash, randomBytes } from 'node:crypto'
import RandomAccessMemory from 'random-access-memory'
import type RandomAccessStorage from 'random-access-storage'
import { directoryStorage, memoryStorage } from '../storage/factories.js'
import type { StorageFactory, StorageOptions, TorrentStorageFactory } from '../storage/types.js'
import { asPeerId, type PeerId } from '../util/ids.js'
import { memoryLimitOf } from '../storage/bounded-memory.js'

/**
 * BEP20: "-tl" + four version digits + "-", then random. Not "-TL": that is Tribler's code, and
 * libtorrent (so qBittorrent, Deluge) would show us as Tribler.
 */
export const PEER_ID_PREFIX = '-tl0100-'

/** A random-access-storage class, as random-access-memory and random-access-file export. */
export type StorageClass = new (path: string, options?: StorageOptions) => RandomAccessStorage

/** What `storage` may be: a folder, a class of the random-access family, or a factory. */
export type StorageOption = string | StorageFactory | StorageClass

/**
 * The peer id for `given`: 20 bytes as they are; 40 hex characters as the bytes they spell; any
 * other string (as UTF-8) or byte array of at most 20 bytes as a prefix, padded with random
 * bytes (a client name such as "-XX0001-" stays readable to peers); a longer one hashed with
 * SHA-1 to 20 bytes, so the same input always gives the same id. Default: our BEP20 prefix + random.
 */
export function normalizePeerId (given: unknown): PeerId {
  if (given === undefined || given === null) return padded(Buffer.from(PEER_ID_PREFIX))
  let bytes: Buffer
  if (typeof given === 'string') {
    if (/^[0-9a-fA-F]{40}$/.test(given)) return asPeerId(Buffer.from(given, 'hex'))
    bytes = Buffer.from(given, 'utf8')
  } else if (given instanceof Uint8Array) {
    bytes = Buffer.from(given)
  } else {
    throw invalidArg('ERR_INVALID_ARG_TYPE', `The "peerId" option must be a string or a Uint8Array; got ${describe(given)}.`)
  }
  if (bytes.length === 20) return asPeerId(bytes)
  if (bytes.length < 20) return padded(bytes)
  return asPeerId(createHash('sha1').update(bytes).digest())
}

function padded (prefix: Buffer): PeerId {
  return asPeerId(Buffer.concat([prefix, randomBytes(20 - prefix.length)]))
}

/**
 * The factory for `given`, which never throws: a storage that cannot be made (the user's factory
 * or constructor threw, or returned no storage) becomes one whose every operation fails with
 * that error, so it reaches the archive as its 'error' or a rejected read instead of crashing
 * the process from inside the swarm. The memory storage (the default, or random-access-memory's
 * class) holds at most `memoryLimit`.
 */
export function normalizeStorage (given: unknown, memoryLimit?: number): StorageFactory {
  const limit = memoryLimitOf(memoryLimit)
  // random-access-memory's own class (the founding example's `storage: RAM`) is the memory storage.
  if (given === undefined || given === null || given === RandomAccessMemory) return memoryStorage({ limit })
  if (typeof given === 'string') return directoryStorage(given)
  if (typeof given !== 'function') {
    throw invalidArg('ERR_INVALID_ARG_TYPE', `The "storage" option must be a folder path, a random-access-storage class or a factory function; got ${describe(given)}.`)
  }
  const make = isClass(given)
    ? (file: string, options?: StorageOptions) => new (given as StorageClass)(file, options)
    : given as StorageFactory
  const forTorrent = (given as TorrentStorageFactory).forTorrent
  const safe: TorrentStorageFactory = (file, options) => {
    try {
      const storage = make(file, options)
      if (isStorage(storage)) return storage
      return new FailedStorage(new TypeError(`The storage factory returned ${describe(storage)} for "${file}", not a random-access-storage instance.`))
    } catch (err) {
      return new FailedStorage(err instanceof Error ? err : new Error(String(err)))
    }
  }
  if (typeof forTorrent === 'function') {
    safe.forTorrent = async (torrent) => normalizeStorage(await forTorrent.call(given, torrent))
  }
  return safe
}

/** Classes cannot be called without `new`; their source text says which they are. */
function isClass (fn: object): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn))
}

function isStorage (value: unknown): value is RandomAccessStorage {
  const s = value as Partial<Record<'read' | 'write' | 'stat' | 'close', unknown>> | null
  return typeof s === 'object' && s !== null && typeof s.read === 'function' && typeof s.write === 'function' && typeof s.close === 'function'
}

/** A storage whose open fails with `error`: every read, write and stat then fails with it. */
class FailedStorage extends RandomAccessMemory {
  private readonly error: Error

  constructor (error: Error) {
    super()
    this.error = error
  }

  _open (req: { callback (err: Error | null): void }): void {
    req.callback(this.error)
  }
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`
  return `type ${typeof value} (${String(value).slice(0, 30)})`
}

function invalidArg (code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code })
}
