import type { HashMessage } from './hash-messages.js'

/** Every peer wire message after the handshake (BEP3, BEP6 fast extension, BEP10 extended, BEP52 hashes). */
export type Message =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have', index: number }
  | { type: 'bitfield', bitfield: Buffer }
  | { type: 'request', index: number, begin: number, length: number }
  | { type: 'piece', index: number, begin: number, block: Buffer }
  | { type: 'cancel', index: number, begin: number, length: number }
  | { type: 'port', port: number }
  | { type: 'suggest', index: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | { type: 'reject', index: number, begin: number, length: number }
  | { type: 'allowed-fast', index: number }
  | { type: 'extended', id: number, payload: Buffer }
  | HashMessage

export type MessageType = Message['type']

/** The BEP10 extensions we speak, with the ids we assign them in our extended handshake. */
export const EXTENSIONS = { ut_metadata: 1, ut_pex: 2, lt_donthave: 3, ut_holepunch: 4, upload_only: 5 } as const
export type ExtensionName = keyof typeof EXTENSIONS

/** BEP10 handshake dictionary, decoded and validated. Unknown keys are dropped. */
export interface ExtendedHandshake {
  /** Extension name -> the id the sender wants to receive it as (0 = disabled). */
  m: Partial<Record<string, number>>
  /** Client name and version. */
  v?: string
  /** Number of outstanding requests the sender accepts. */
  reqq?: number
  /** BEP9: size of the info dictionary in bytes. */
  metadataSize?: number
  /** The sender's TCP listen port. */
  p?: number
  /** Our address as the sender sees it (4 or 16 bytes). */
  yourip?: Buffer
  /** BEP7: the sender's IPv6 address (16 bytes), where it can also be reached. */
  ipv6?: Buffer
  /** BEP7: the sender's IPv4 address (4 bytes). */
  ipv4?: Buffer
  /** BEP21: the sender only uploads (a seed, or partial seed). */
  uploadOnly?: boolean
}

/** BEP9 ut_metadata messages. */
export type MetadataMessage =
  | { type: 'request', piece: number }
  | { type: 'data', piece: number, totalSize: number, data: Buffer }
  | { type: 'reject', piece: number }

/** 16 KiB: the block size every client requests, and BEP9's metadata piece size. */
export const BLOCK_SIZE = 16384
