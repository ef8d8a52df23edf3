export { Torrent } from './lib/client/torrent.js'
export type { TorrentOptions, LookupOptions, SeedOptions, PublishOptions, RemoveOptions, TorrentInfo, ClientStats } from './lib/client/torrent.js'
export type { EncryptionPolicy } from './lib/transport/mse/policy.js'
export { createKeypair } from './lib/mutable/keys.js'
export type { Keypair } from './lib/mutable/keys.js'
export { Archive, FileHandle } from './lib/archive/archive.js'
export type { TorrentStats, PeerOrigin } from './lib/archive/torrent-stats.js'
export type {
  ArchiveEvents, Stats, Dirent, Callback, ReadFileOptions, ReaddirOptions, ReadStreamOptions, WriteFileOptions,
  StatOptions, MakeDirectoryOptions
} from './lib/archive/archive.js'
export { TrackerlessError } from './lib/errors.js'
export type { ErrorCode } from './lib/errors.js'
export type { StorageFactory, StorageOptions, RandomAccessStorage } from './lib/storage/types.js'
export type { StorageClass } from './lib/client/normalize-options.js'
export type { FileReadOptions, HandleSource } from './lib/archive/file-handle.js'
export { directoryStorage } from './lib/storage/factories.js'
export type { DirectoryStorageOptions } from './lib/storage/factories.js'
export type { InfoHash, PeerId } from './lib/util/ids.js'
export { Gateway, createGateway } from './lib/gateway/gateway.js'
export type { PortMapper, PortMapping, PortMapperEvents, MappingMethod, MappedProtocol } from './lib/nat/port-mapper.js'
export type { GatewayOptions, GatewayAddress } from './lib/gateway/gateway.js'
/** `import Torrent from 'trackerless'`: the client, with `Torrent.Archive` and `Torrent.createKeypair` on it. */
export { Torrent as default } from './lib/client/torrent.js'
